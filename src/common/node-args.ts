/**
 * How to run one of this package's modules in a new Node process: compiled JavaScript (the installed command) as is,
 * TypeScript (a checkout, `npm run ...`) through ts-node.
 */
export function nodeArgsToRun(moduleFile: string): string[] {
  return moduleFile.endsWith('.ts') ? ['-r', 'ts-node/register', moduleFile] : [moduleFile];
}

/** The command as the user types it: the installed `zendesk-export`, or `npm run client --` in a checkout. */
export const COMMAND = __filename.endsWith('.ts') ? 'npm run client --' : 'zendesk-export';
