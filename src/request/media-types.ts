/** What the gateway answers in: JSON only (it has no subscriptions, @defer or @stream to stream). */
export const servableMediaTypes = ['application/graphql-response+json', 'application/json'];

const matches = (type: string, asked: string) => {
  const [pre, suf] = type.split('/');
  const [askedPre, askedSuf] = asked.split('/');
  return (askedPre === '*' || askedPre === pre) && (askedSuf === '*' || askedSuf === suf);
};

/**
 * The media type yoga answers a single result in for an `Accept` header, decided as yoga decides
 * (graphql-yoga's use-result-processor and accept.js): parameters other than a charset are ignored,
 * a charset other than utf-8 drops the range, and the first range that JSON matches wins, in
 * `application/json` when both JSON types match it. `undefined` when no range allows JSON (yoga
 * would answer 406, or stream). The request guards refuse on it; the hot path answers by it.
 */
export function answeredMediaType(accept: string | null | undefined): string | undefined {
  const ranges = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  for (const range of ranges) {
    const [type, ...params] = range.split(';');
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
    if (type === undefined || charset !== 'charset=utf-8') continue;
    let answered: string | undefined;
    for (const candidate of servableMediaTypes) if (matches(candidate, type)) answered = candidate;
    if (answered) return answered;
  }
  return undefined;
}
