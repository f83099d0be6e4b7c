import { ApplicationFailure } from '@temporalio/activity';
import { undecodableReason } from '../shared';
import { PageStaging, StagedPageGoneError } from '../codec/staged-pages';
import { owningWorkflow } from './owner';
import { isStaged, STAGED_PAGE_GONE, type StagedPage } from './types';

/** A page as fetchPage or fetchStreamPage handed it on: as it came, or read back from the blob store. */
export async function readPageContent<Inline extends object>(
  content: Inline | StagedPage,
  staging: PageStaging,
): Promise<Inline> {
  if (!isStaged(content)) return content;
  let page: unknown;
  try {
    page = await staging.load(content.staged, owningWorkflow());
  } catch (err) {
    if (err instanceof StagedPageGoneError) throw gone(err.message);
    throw err;
  }
  const unreadable = undecodableReason(page);
  if (unreadable !== undefined) throw gone(`staged page ${content.staged} cannot be read: ${unreadable}`);
  return page as Inline;
}

/** Retrying cannot bring the page back: the workflow fetches it again. */
function gone(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: STAGED_PAGE_GONE, nonRetryable: true });
}
