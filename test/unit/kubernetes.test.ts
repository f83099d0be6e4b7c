import fs from 'node:fs';
import YAML from 'yaml';

/*
 * deploy/kubernetes/worker.yaml, an example no cluster here has run: it parses, probes the worker's own paths on the
 * port METRICS_PORT names, and writes no secret (each sensitive variable comes from a Secret).
 */

const FILE = 'deploy/kubernetes/worker.yaml';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  env: EnvVar[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
}

const docs = YAML.parseAllDocuments(fs.readFileSync(FILE, 'utf8'));
const [deployment] = docs.map((d) => d.toJS()).filter((d) => d.kind === 'Deployment');
const container = deployment.spec.template.spec.containers[0] as Container;
const env = new Map(container.env.map((e) => [e.name, e]));

describe(FILE, () => {
  test('parses: a Deployment and a Service', () => {
    for (const doc of docs) expect(doc.errors).toEqual([]);
    expect(docs.map((d) => d.toJS().kind)).toEqual(['Deployment', 'Service']);
  });

  test('liveness on /healthz, readiness on /readyz, on the port METRICS_PORT names', () => {
    const port = container.ports.find((p) => p.name === 'metrics');
    expect(String(port?.containerPort)).toBe(env.get('METRICS_PORT')?.value);
    expect(env.get('METRICS_HOST')?.value).toBe('0.0.0.0');
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  test('no secret inline: the sink URL, API key and Zendesk credentials come from a Secret', () => {
    for (const [name, variable] of env) {
      if (/SECRET|TOKEN|PASSWORD|API_KEY|CLIENT_ID|^SINK_URL$/.test(name)) {
        expect({ name, value: variable.value, secret: variable.valueFrom?.secretKeyRef?.name }).toEqual({
          name,
          value: undefined,
          secret: 'zendesk-export',
        });
      }
    }
    expect(env.get('PAYLOAD_ENCRYPTION_KEY_FILE')?.value).toBe('/secrets/payload-encryption.key');
    expect(env.has('PAYLOAD_ENCRYPTION_KEY')).toBe(false);
    expect(env.get('CODEC_SERVER_PORT')?.value).toBe('off');
  });
});
