import { defaultMinStartAgeSeconds, EXPORT_DEFAULTS } from '../workflows/settings';
import type { WorkflowStartOptions } from '@temporalio/client';
import { workflowIdFor, ZENDESK_ACCOUNT, ZENDESK_STATE } from '../shared';
import type { ticketExportWorkflow } from '../workflows';
import type { ExportInput } from '../workflows/messages';
import { isoSeconds } from '../common/time-text';

/**
 * How every client starts an export: the workflow id of the account, its search attributes from the first moment,
 * and the static summary and details the Web UI shows at the top of the workflow (the account, the endpoint, the
 * pacing). The first run carries them; after continue-as-new the current details say the same.
 */
export function exportStartOptions(
  input: ExportInput,
  taskQueue: string,
): WorkflowStartOptions<typeof ticketExportWorkflow> & { workflowId: string } {
  const api = input.api ?? 'exports';
  const from = input.startTime === undefined ? 'the stored checkpoint' : isoSeconds(input.startTime);
  const pacing =
    `${input.pollIntervalSeconds ?? EXPORT_DEFAULTS.pollIntervalSeconds} s between calls` +
    (api === 'exports'
      ? ''
      : `, ${input.requestsPerMinute ?? EXPORT_DEFAULTS.requestsPerMinute}/min while catching up`) +
    `, start_time ≥ ${input.minStartAgeSeconds ?? defaultMinStartAgeSeconds(api)} s old`;
  return {
    taskQueue,
    workflowId: workflowIdFor(input.account),
    args: [input],
    // A namespace without ZendeskState refuses a start that sets it.
    typedSearchAttributes: [
      { key: ZENDESK_ACCOUNT, value: input.account },
      ...(input.stateSearchAttribute === false ? [] : [{ key: ZENDESK_STATE, value: 'catching_up' }]),
    ],
    staticSummary: `Zendesk ticket export of ${input.account} (${api})`,
    // One short paragraph: the Web UI shows the details in a frame about four lines high.
    staticDetails: `**${api}** endpoint from ${from} · ${pacing}`,
  };
}
