import { Context } from '@temporalio/activity';
import type { WorkflowSerializationContext } from '@temporalio/common';

/** The workflow that runs this activity, as the payload codecs name an owner: staged pages are bound to it. */
export function owningWorkflow(): WorkflowSerializationContext | undefined {
  const { info } = Context.current();
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId) return undefined;
  return { type: 'workflow', namespace: info.workflowNamespace ?? 'default', workflowId };
}
