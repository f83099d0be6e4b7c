// The comparison lives with the benchmarks' support code, which the chaos run shares with the tests.
export { compareStreamsWithTruth, diffStreamsWithTruth } from '../../bench/support/stream-truth';
