import type { AccountOptions } from './commands';
import { UsageError } from './io';

/** The accounts a command applies to: --account NAME, --all, or the only one there is. */
export function selectAccounts<T extends { account: string }>(
  accounts: T[],
  { account, all }: AccountOptions,
  accountsFile?: string,
): T[] {
  if (all) return accounts;
  const names = accounts.map((a) => a.account).join(', ');
  if (account !== undefined) {
    const chosen = accounts.find((a) => a.account === account);
    if (!chosen) {
      const source = accountsFile ? `ZENDESK_ACCOUNTS_FILE (${accountsFile})` : 'ZENDESK_SUBDOMAIN/ZENDESK_BASE_URL';
      throw new UsageError(`--account "${account}" is not an account of ${source}; known: ${names}`);
    }
    return [chosen];
  }
  if (accounts.length > 1) {
    throw new UsageError(
      `ZENDESK_ACCOUNTS_FILE lists ${accounts.length} accounts (${names}): pass --account NAME or --all`,
    );
  }
  return accounts;
}
