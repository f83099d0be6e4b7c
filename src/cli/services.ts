/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand: `status` does not load the worker */

/** The long-running commands: each is its own process, configured by the environment, loaded only when asked for. */
export interface ServiceModule {
  main(args: string[]): Promise<void>;
}

export const SERVICE_COMMANDS = {
  worker: {
    description: 'run the worker: it polls Zendesk and stores what it reads (configured by the environment)',
    load: (): ServiceModule => require('../worker'),
  },
  emulator: {
    description: 'a local Zendesk to try it on, with seeded tickets and live changes (--help: its options)',
    load: (): ServiceModule => require('../emulator/main'),
  },
  'dev-server': {
    description: 'a local Temporal dev server, state in .data/ (fetches the Temporal CLI first if needed)',
    load: (): ServiceModule => require('../dev-server'),
  },
  'codec-server': {
    description: "the Web UI's codec endpoint alone: the Web UI shows encrypted payloads decoded",
    load: (): ServiceModule => require('../codec/main'),
  },
  demo: {
    description: 'dev server, emulator, worker and export in one go, with progress until Ctrl-C',
    load: (): ServiceModule => require('../demo'),
  },
} as const;

export type ServiceCommand = keyof typeof SERVICE_COMMANDS;

export function isServiceCommand(name: string | undefined): name is ServiceCommand {
  return name !== undefined && Object.hasOwn(SERVICE_COMMANDS, name);
}
