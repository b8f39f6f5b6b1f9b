import type { ProfileCreateResult } from "../../../lib/bindings";

/** What the create did: made (and published) the profile, or found one of that name and version and kept it. */
export function ResultCard({ result }: { result: ProfileCreateResult }) {
  const published = result.published === null ? "not reported" : result.published ? "yes" : "no (a draft)";
  const facts: Array<[string, string]> = [
    ["Name", result.name],
    ["Version", result.version],
    ["UID", result.uid],
    ["Published", published],
  ];
  return (
    <div className="wf-result" data-testid="profile-result" data-created={result.created} data-uid={result.uid}>
      <div className="wf-result-title">{result.created ? `Cluster profile ${result.name} ${result.version} created` : `Cluster profile ${result.name} ${result.version} existed already and was kept`}</div>
      <div>{result.message}</div>
      <dl className="wf-facts">
        {facts.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{term === "UID" ? <code>{value}</code> : value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
