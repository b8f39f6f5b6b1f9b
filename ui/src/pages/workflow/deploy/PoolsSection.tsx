import type { BootKind, DeployOptions, PoolSpec } from "../../../lib/bindings";
import { Section } from "../parts";
import { Field, NumberInput, type SectionProps } from "./fields";
import { CONTROL_PLANE_SIZES, toNumber, workerPoolLabel } from "./model";

function Segmented<T extends string | number>({ value, choices, onChange, label, testId, word }: { value: T; choices: readonly T[]; onChange: (v: T) => void; label: string; testId: string; word?: (v: T) => string }) {
  return (
    <div className="wf-segmented" role="group" aria-label={label}>
      {choices.map((c) => (
        <button key={String(c)} type="button" className="wf-segment" aria-pressed={value === c} data-testid={`${testId}-${c}`} onClick={() => onChange(c)}>
          {word ? word(c) : String(c)}
        </button>
      ))}
    </div>
  );
}

/** vCPU sockets, vCPUs per socket, memory, disk and boot type of one pool. */
function PoolSize({ pool, onChange, testId, minMemoryGib, minDiskGib }: { pool: PoolSpec; onChange: (p: PoolSpec) => void; testId: string; minMemoryGib: number; minDiskGib: number }) {
  const small = pool.memoryGib > 0 && pool.memoryGib < minMemoryGib;
  const smallDisk = pool.diskGib > 0 && pool.diskGib < minDiskGib;
  return (
    <div className="dp-pool-size">
      <Field label="vCPU sockets">
        <NumberInput value={pool.vcpuSockets} min={1} testId={`${testId}-sockets`} onChange={(n) => onChange({ ...pool, vcpuSockets: n })} />
      </Field>
      <Field label="vCPUs per socket">
        <NumberInput value={pool.vcpusPerSocket} min={1} testId={`${testId}-vcpus`} onChange={(n) => onChange({ ...pool, vcpusPerSocket: n })} />
      </Field>
      <Field label="Memory (GiB)" warning={small ? `CAPX needs at least ${minMemoryGib} GiB.` : undefined}>
        <NumberInput value={pool.memoryGib} min={1} testId={`${testId}-memory`} onChange={(n) => onChange({ ...pool, memoryGib: n })} />
      </Field>
      <Field label="System disk (GiB)" warning={smallDisk ? `CAPX needs at least ${minDiskGib} GiB.` : undefined}>
        <NumberInput value={pool.diskGib} min={1} testId={`${testId}-disk`} onChange={(n) => onChange({ ...pool, diskGib: n })} />
      </Field>
      <div className="wf-field">
        <span className="wf-label">Boot</span>
        <Segmented<BootKind> value={pool.bootType} choices={["legacy", "uefi"]} label="Boot type" testId={`${testId}-boot`} word={(b) => (b === "uefi" ? "UEFI" : "Legacy BIOS")} onChange={(b) => onChange({ ...pool, bootType: b })} />
      </div>
    </div>
  );
}

export function PoolsSection({ spec, onChange, options }: SectionProps & { options: DeployOptions }) {
  const minMemoryGib = Math.ceil(toNumber(options.defaults.minMemoryMib) / 1024);
  const minDiskGib = Math.ceil(toNumber(options.defaults.minSystemDiskMib) / 1024);
  const cp = spec.controlPlane;
  const setWorker = (index: number, pool: PoolSpec) => onChange({ ...spec, workers: spec.workers.map((w, i) => (i === index ? pool : w)) });
  const vcpus = (p: PoolSpec) => p.vcpuSockets * p.vcpusPerSocket;
  return (
    <Section title="Node pools" hint={`CAPX minimums: ${minMemoryGib} GiB memory, ${minDiskGib} GiB system disk, 1 vCPU.`} testId="deploy-pools">
      <div className="dp-pool" data-testid="deploy-pool-cp">
        <div className="dp-pool-head">
          <strong>Control plane</strong>
          <span className="wf-muted">
            {cp.replicas} × {vcpus(cp)} vCPU, {cp.memoryGib} GiB
          </span>
        </div>
        <div className="wf-field">
          <span className="wf-label">Nodes (etcd needs an odd number)</span>
          <Segmented value={cp.replicas} choices={CONTROL_PLANE_SIZES} label="Control-plane nodes" testId="deploy-cp-replicas" onChange={(n) => onChange({ ...spec, controlPlane: { ...cp, replicas: n } })} />
          {!(CONTROL_PLANE_SIZES as readonly number[]).includes(cp.replicas) && <span className="dp-error">{cp.replicas} control-plane nodes: pick 1, 3 or 5.</span>}
        </div>
        <PoolSize pool={cp} onChange={(p) => onChange({ ...spec, controlPlane: p })} testId="deploy-cp" minMemoryGib={minMemoryGib} minDiskGib={minDiskGib} />
      </div>
      {spec.workers.map((pool, i) => (
        <div className="dp-pool" key={i} data-testid="deploy-pool-worker">
          <div className="dp-pool-head">
            <strong>{workerPoolLabel(pool, i)}</strong>
            <span className="wf-muted">
              {pool.replicas} × {vcpus(pool)} vCPU, {pool.memoryGib} GiB
            </span>
            <button type="button" className="wf-link" data-testid={`deploy-worker-${i}-remove`} disabled={spec.workers.length === 1} title={spec.workers.length === 1 ? "A cluster needs at least one worker pool" : undefined} onClick={() => onChange({ ...spec, workers: spec.workers.filter((_, j) => j !== i) })}>
              Remove pool
            </button>
          </div>
          <div className="dp-pool-size">
            <Field label="Pool name (optional)">
              <input className="wf-input" data-testid={`deploy-worker-${i}-name`} value={pool.name} placeholder={i === 0 ? `${spec.name || "<cluster>"}-wmd` : `${spec.name || "<cluster>"}-workers-${i + 1}`} spellCheck={false} onChange={(e) => setWorker(i, { ...pool, name: e.target.value })} />
            </Field>
            <Field label="Nodes">
              <NumberInput value={pool.replicas} min={1} testId={`deploy-worker-${i}-replicas`} onChange={(n) => setWorker(i, { ...pool, replicas: n })} />
            </Field>
          </div>
          <PoolSize pool={pool} onChange={(p) => setWorker(i, p)} testId={`deploy-worker-${i}`} minMemoryGib={minMemoryGib} minDiskGib={minDiskGib} />
        </div>
      ))}
      <div className="wf-actions">
        <button type="button" className="button" data-testid="deploy-worker-add" onClick={() => onChange({ ...spec, workers: [...spec.workers, { ...options.defaults.worker, name: `worker-pool-${spec.workers.length + 1}` }] })}>
          Add a worker pool
        </button>
      </div>
    </Section>
  );
}
