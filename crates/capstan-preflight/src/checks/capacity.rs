//! Node sizes against the CAPX minimums, and the Prism Element's CPU and memory headroom.

use std::sync::Arc;
use std::time::Instant;

use capstan_capx::sizes::check_pool_sizing;
use capstan_prism::Host;

use crate::checks::placement::ResolvedPe;
use crate::model::{CapacityData, CheckData, CheckId, SizeIssue, SizesData};
use crate::runner::{Ctx, Finding, Ran, Step, need, skipped};
use crate::vms::VmEntry;

/// CAPX's size minimums and the control-plane count rule, per pool.
pub(crate) async fn machine_sizes(ctx: Arc<Ctx>) -> Arc<Ran<()>> {
    let id = CheckId::MachineSizes;
    ctx.timed(id, Default::default(), async {
        let mut issues = Vec::new();
        for (role, label, pool) in ctx.input.pools() {
            for p in check_pool_sizing(&pool.sizing(role)) {
                issues.push(SizeIssue {
                    pool: label.clone(),
                    field: p.field.to_owned(),
                    code: p.code.to_owned(),
                    capx_error: p.capx_error,
                    fix: p.fix,
                });
            }
        }
        let data = CheckData::Sizes(SizesData {
            problems: issues.clone(),
        });
        if let Some(first) = issues.first() {
            let detail = issues
                .iter()
                .map(|i| match &i.capx_error {
                    Some(e) => format!("{}: CAPX would fail with \"{e}\".", i.pool),
                    None => format!("{}: {}", i.pool, i.fix),
                })
                .collect::<Vec<_>>()
                .join(" ");
            let fix = issues
                .iter()
                .filter(|i| i.capx_error.is_some())
                .map(|i| i.fix.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            return Finding::fail(
                &first.code,
                detail,
                if fix.is_empty() { first.fix.clone() } else { fix },
            )
            .data(data);
        }
        if ctx.input.worker_pools.is_empty() {
            return Finding::warn(
                "no_worker_pool",
                "The sizes meet the CAPX minimums, but there is no worker pool: workloads would have to run on the control-plane nodes.",
                "Add a worker pool with at least one node.",
            )
            .data(data)
            .value(());
        }
        let pools = ctx.input.pools();
        let summary: Vec<String> = pools
            .iter()
            .map(|(_, label, p)| {
                format!(
                    "{label}: {} \u{d7} {} vCPU, {}, disk {}",
                    p.replicas,
                    p.vcpus(),
                    p.memory,
                    p.system_disk
                )
            })
            .collect();
        Finding::pass(
            "machine_sizes_ok",
            format!(
                "{} (minimums: 2Gi memory, 20Gi system disk, 1 socket, 1 vCPU per socket; 1, 3 or 5 control-plane nodes).",
                summary.join("; ")
            ),
        )
        .data(data)
        .value(())
    })
    .await
}

/// Hosts that run guest VMs: hyper-converged (with a CVM) and compute-only (without).
fn schedulable(h: &Host) -> bool {
    !h.resources()
        .and_then(|r| r.host_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("NEVER_SCHEDULABLE"))
}

fn has_cvm(h: &Host) -> bool {
    h.resources()
        .and_then(|r| r.host_type.as_deref())
        .is_none_or(|t| t.eq_ignore_ascii_case("HYPER_CONVERGED"))
}

fn on_pe<R>(e: &capstan_prism::Entity<R>, pe: &ResolvedPe) -> bool {
    e.cluster_reference()
        .and_then(|c| c.uuid.as_deref())
        .is_some_and(|u| u.eq_ignore_ascii_case(&pe.uuid))
}

fn gib(mib: u64) -> String {
    format!("{:.1} GiB", mib as f64 / 1024.0)
}

/// CPU and memory headroom of the PE for every pool plus the upgrade surge.
///
/// - Capacity: the PE's schedulable hosts (`hosts/list`, not `NEVER_SCHEDULABLE`):
///   Σ `num_cpu_cores` and Σ `memory_capacity_mib`.
/// - Reserved: each hyper-converged host's Controller VM (not in `vms/list`):
///   `cvm_memory_mib` and `cvm_vcpus` per host (options).
/// - Allocated: powered-on VMs on the PE (`vms/list`): Σ `memory_size_mib`,
///   Σ `num_sockets × num_vcpus_per_socket`.
/// - Needed: Σ pools `replicas × (memory, vCPUs)` plus one extra node per pool (the rolling
///   upgrade's surge).
/// - Memory is not overcommitted on AHV: fail when needed > capacity − reserved − allocated.
///   Warn when it only fits by using the room HA keeps to restart a failed host's VMs
///   (needed > free − the largest host's usable memory, with two or more hosts).
/// - CPU is: fail when allocated + needed > cores × `vcpu_overcommit` − reserved vCPUs.
/// - A single node must fit on one host: its memory within the largest host's (less its
///   CVM), its vCPUs within that host's cores.
pub(crate) async fn prism_element_capacity(ctx: Arc<Ctx>, pe: Step<ResolvedPe>) -> Arc<Ran<()>> {
    let id = CheckId::PrismElementCapacity;
    let started = Instant::now();
    let pe = match need(&*pe.await, "the Prism Element") {
        Ok(pe) => pe,
        Err(reason) => return skipped(id, reason, started.elapsed()),
    };
    ctx.timed(id, started.elapsed(), async {
        let hosts = match ctx.inventory.hosts.clone().await {
            Ok(h) => h,
            Err(e) => return Finding::prism_error("listing hosts", &e),
        };
        let vms = match ctx.inventory.vms.clone().await {
            Ok(v) => v,
            Err(e) => return Finding::prism_error("listing VMs", &e),
        };
        let opts = &ctx.options;
        let hosts: Vec<&Host> = hosts.iter().filter(|h| on_pe(h, &pe) && schedulable(h)).collect();
        let cores_of =
            |h: &Host| u64::from(h.resources().and_then(|r| r.num_cpu_cores).unwrap_or(0));
        let mem_of = |h: &Host| h.resources().and_then(|r| r.memory_capacity_mib).unwrap_or(0);
        let physical_cores: u64 = hosts.iter().map(|h| cores_of(h)).sum();
        let memory_mib: u64 = hosts.iter().map(|h| mem_of(h)).sum();
        if hosts.is_empty() || physical_cores == 0 || memory_mib == 0 {
            return Finding::warn(
                "capacity_unknown",
                format!(
                    "Prism Central reports no host capacity for {} ({} schedulable hosts listed), so the headroom cannot be computed.",
                    pe.name,
                    hosts.len()
                ),
                format!("Check {}'s free CPU and memory in Prism before deploying.", pe.name),
            )
            .value(());
        }
        let cvm_hosts = hosts.iter().filter(|h| has_cvm(h)).count() as u64;
        let reserved_memory_mib = cvm_hosts * opts.cvm_memory_mib;
        let reserved_vcpus = cvm_hosts * opts.cvm_vcpus;
        let (mut allocated_memory_mib, mut allocated_vcpus) = (0u64, 0u64);
        let on_this_pe =
            |vm: &VmEntry| vm.cluster().0.is_some_and(|u| u.eq_ignore_ascii_case(&pe.uuid));
        for vm in vms.iter().filter(|v| on_this_pe(v) && v.powered_on()) {
            if let Some(r) = vm.resources() {
                allocated_memory_mib += r.memory_size_mib.unwrap_or(0);
                allocated_vcpus += u64::from(r.num_sockets.unwrap_or(1))
                    * u64::from(r.num_vcpus_per_socket.unwrap_or(1));
            }
        }
        let pools = ctx.input.pools();
        let (mut needed_memory_mib, mut needed_vcpus) = (0u64, 0u64);
        for (_, _, p) in &pools {
            if p.replicas == 0 {
                continue;
            }
            let nodes = u64::from(p.replicas) + 1;
            needed_memory_mib += nodes * p.memory_mib();
            needed_vcpus += nodes * p.vcpus();
        }
        let free_memory_mib = memory_mib.saturating_sub(reserved_memory_mib + allocated_memory_mib);
        let vcpu_limit = ((physical_cores as f64 * opts.vcpu_overcommit).floor() as u64)
            .saturating_sub(reserved_vcpus);
        let largest_host_memory_mib = hosts.iter().map(|h| mem_of(h)).max().unwrap_or(0);
        let largest_host_cores = hosts.iter().map(|h| cores_of(h)).max().unwrap_or(0);
        let data = CheckData::Capacity(CapacityData {
            hosts: hosts.len() as u64,
            physical_cores,
            memory_mib,
            reserved_memory_mib,
            reserved_vcpus,
            allocated_memory_mib,
            allocated_vcpus,
            needed_memory_mib,
            needed_vcpus,
            free_memory_mib,
            vcpu_limit,
            vcpu_overcommit: opts.vcpu_overcommit,
            largest_host_memory_mib,
            largest_host_cores,
        });
        let mut problems = Vec::new();
        let host_room = largest_host_memory_mib.saturating_sub(opts.cvm_memory_mib);
        for (_, label, p) in &pools {
            if p.replicas > 0 && p.memory_mib() > host_room {
                problems.push(format!(
                    "one {label} node needs {} of memory but the largest host has {} for VMs",
                    gib(p.memory_mib()),
                    gib(host_room)
                ));
            }
            if p.replicas > 0 && p.vcpus() > largest_host_cores {
                problems.push(format!(
                    "one {label} node has {} vCPUs but the largest host has {largest_host_cores} cores",
                    p.vcpus()
                ));
            }
        }
        if needed_memory_mib > free_memory_mib {
            problems.push(format!(
                "the pools need {} of memory (upgrade surge included) but {} has {} free: {} on {} hosts, less {} for the Controller VMs and {} for the powered-on VMs",
                gib(needed_memory_mib),
                pe.name,
                gib(free_memory_mib),
                gib(memory_mib),
                hosts.len(),
                gib(reserved_memory_mib),
                gib(allocated_memory_mib)
            ));
        }
        if allocated_vcpus + needed_vcpus > vcpu_limit {
            problems.push(format!(
                "the pools need {needed_vcpus} vCPUs (upgrade surge included) on top of the {allocated_vcpus} already allocated, above the limit of {vcpu_limit} ({physical_cores} cores \u{d7} {} overcommit, less {reserved_vcpus} for the Controller VMs)",
                opts.vcpu_overcommit
            ));
        }
        if !problems.is_empty() {
            return Finding::fail(
                "prism_element_capacity_exhausted",
                format!("{}: {}.", pe.name, problems.join("; ")),
                format!(
                    "Free capacity on {} (power off or delete unused VMs), make the pools smaller, or pick another Prism Element. Otherwise VM creation fails or nodes stay Pending.",
                    pe.name
                ),
            )
            .data(data);
        }
        let usage = format!(
            "{}: needs {} and {needed_vcpus} vCPUs (upgrade surge included); {} of memory free, {} of {vcpu_limit} vCPUs in use",
            pe.name,
            gib(needed_memory_mib),
            gib(free_memory_mib),
            allocated_vcpus
        );
        if hosts.len() >= 2 && needed_memory_mib > free_memory_mib.saturating_sub(host_room) {
            return Finding::warn(
                "no_room_after_host_failure",
                format!("{usage}. It fits only by using the memory HA keeps to restart the VMs of a failed host."),
                format!("Nothing blocks the deploy, but if a host of {} fails, some VMs (nodes included) cannot restart. Free memory or make the pools smaller to keep that reserve.", pe.name),
            )
            .data(data)
            .value(());
        }
        Finding::pass("prism_element_capacity_ok", format!("{usage}."))
            .data(data)
            .value(())
    })
    .await
}
