import { undecodableReason } from '../shared';

/**
 * Why an activity's result cannot be taken (a payload the codecs refused, or a page that does not add up), or
 * undefined. Such a result is a failed call: nothing of it is stored and no cursor moves. Thrown instead, it would fail
 * every workflow task.
 */
export function refusalOf<R extends { kind: string }>(
  activity: string,
  result: R,
  pageProblem: (page: Extract<R, { kind: 'page' }>) => string | undefined,
): string | undefined {
  const unreadable = undecodableReason(result);
  if (unreadable !== undefined) return `${activity} result could not be decoded (${unreadable})`;
  const problem = result.kind === 'page' ? pageProblem(result as Extract<R, { kind: 'page' }>) : undefined;
  return problem === undefined ? undefined : `${activity} result refused: ${problem}`;
}
