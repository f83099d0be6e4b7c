import { analyseBundle, breakdown, Measurement } from '../../bench/scenarios/memory-breakdown';

describe('memory breakdown', () => {
  test('analyseBundle sizes webpack modules by package and the inline source map apart', () => {
    const map = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,AAAA';
    const code = [
      'var __TEMPORAL__;',
      '/***/ "./node_modules/@temporalio/common/lib/a.js"',
      'x'.repeat(100),
      '/***/ "./node_modules/@temporalio/common/lib/b.js"',
      'y'.repeat(50),
      '/***/ "./node_modules/long/umd/index.js"',
      'z'.repeat(30),
      '/***/ "./src/workflows/index.ts"',
      'w'.repeat(10),
      map,
    ].join('\n');
    const result = analyseBundle(code);
    expect(result.bytes).toBe(code.length);
    expect(result.sourceMapBytes).toBe(map.length);
    expect(result.codeBytes).toBe(code.length - map.length);
    expect(result.modules).toBe(4);
    expect(result.byPackage.map((p) => p.name)).toEqual(['@temporalio/common', 'long', './src/workflows']);
    expect(result.byPackage[0].bytes).toBeGreaterThan(150);
    expect(result.largestModules[0].path).toBe('./node_modules/@temporalio/common/lib/a.js');
  });

  test('breakdown takes differences between stages and the slope over idle workflows', () => {
    const m = (name: string, stage: Measurement['stage'], vmRssMb: number, workflows = 0): Measurement => ({
      name,
      repeat: 0,
      stage,
      workflows,
      options: { maxCachedWorkflows: null, reuseV8Context: null, bundleBytes: stage === 'worker' ? 1 : null },
      proc: { vmRssMb, vmHwmMb: vmRssMb, rssAnonMb: 0, rssFileMb: 0, threads: 1 },
      node: { rssMb: 0, heapTotalMb: 0, heapUsedMb: 0, externalMb: 0, arrayBuffersMb: 0 },
      resolved: null,
      readySeconds: 0,
    });
    const result = breakdown([
      m('bare node', 'bare', 40),
      m('SDK loaded (@temporalio/worker, client)', 'sdk', 80),
      m('modules loaded, sink open', 'modules', 100),
      m('Rust core: Runtime + NativeConnection', 'core', 130),
      m('worker, trivial bundle, no workflows', 'worker', 170),
      m('worker, no workflows', 'worker', 180),
      m('worker, 1 idle workflows', 'worker', 181, 1),
      m('worker, 19 idle workflows', 'worker', 199, 19),
      {
        ...m('worker, maxCachedWorkflows 10, 19 idle workflows', 'worker', 194.5, 19),
        options: { maxCachedWorkflows: 10, reuseV8Context: null, bundleBytes: 1 },
      },
    ]);
    expect(result.parts.map((p) => p.mb)).toEqual([40, 40, 20, 30, 50, 10, 1]);
    expect(result.perIdleWorkflowMb).toBe(1);
    expect(result.perCachedWorkflowMb).toBe(0.5);
    expect(result.totalNoWorkflowsMb).toBe(180);
  });
});
