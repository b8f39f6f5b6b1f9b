import type { ReactNode } from "react";

/** A page that is not built yet: says exactly what it will hold. */
export function ComingSoon({ heading, intro, points, aside, testId }: { heading: string; intro: string; points: Array<{ title: string; text: string }>; aside?: ReactNode; testId: string }) {
  return (
    <section className="card coming-soon" data-testid={testId}>
      <div className="coming-soon-text">
        <div className="eyebrow">Not built yet · arrives in a later release</div>
        <h2 className="coming-soon-heading">{heading}</h2>
        <p className="coming-soon-intro">{intro}</p>
        <ol className="coming-soon-points">
          {points.map((p, i) => (
            <li key={p.title}>
              <span className="step-number" aria-hidden="true">
                {i + 1}
              </span>
              <div>
                <div className="point-title">{p.title}</div>
                <div className="point-text">{p.text}</div>
              </div>
            </li>
          ))}
        </ol>
      </div>
      {aside && <div className="coming-soon-aside">{aside}</div>}
    </section>
  );
}
