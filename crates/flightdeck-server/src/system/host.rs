//! The host and Flightdeck's own process, read with `sysinfo`: CPU per core and in all,
//! memory, swap, load, disk and network rates, and the process's CPU, resident memory,
//! threads and open files. Rates and CPU use are differences between two reads, so the
//! first read after start gives none of them.

use super::Sample;
use std::time::Instant;
use sysinfo::{Disks, Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// What the previous read left for the next one to take differences from.
pub struct Host {
    system: System,
    disks: Option<Disks>,
    networks: Option<Networks>,
    pid: Option<Pid>,
    last: Option<Instant>,
}

/// Bytes per second of each direction since the last read (none at the first).
fn rates(name: &'static str, bytes: [(&str, u64); 2], secs: Option<f64>) -> Vec<Sample> {
    let Some(secs) = secs else {
        return Vec::new();
    };
    bytes
        .into_iter()
        .map(|(direction, b)| {
            Sample::new(name, b as f64 / secs, "By/s").label("direction", direction)
        })
        .collect()
}

impl Host {
    /// Opens the readers; one that this platform lacks is left out, not an error.
    pub fn new() -> Result<Host, String> {
        let mut system = System::new().map_err(|e| format!("the host cannot be read: {e}"))?;
        system.refresh_cpu_usage();
        system.refresh_memory();
        Ok(Host {
            system,
            disks: Disks::new_with_refreshed_list().ok(),
            networks: Networks::new_with_refreshed_list().ok(),
            pid: sysinfo::get_current_pid().ok(),
            last: None,
        })
    }

    /// The host's name and size, for the System page's heading.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "name": System::host_name().ok(),
            "os": System::long_os_version().ok(),
            "cpus": self.system.cpus().len(),
            "memory_bytes": self.system.total_memory(),
        })
    }

    /// One read of everything.
    pub fn sample(&mut self) -> Vec<Sample> {
        let now = Instant::now();
        let elapsed = self.last.map(|t| now.duration_since(t).as_secs_f64());
        self.last = Some(now);
        let mut out = Vec::new();
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        if elapsed.is_some() {
            let cpus = self.system.cpus();
            for (i, cpu) in cpus.iter().enumerate() {
                out.push(
                    Sample::new(
                        "system.cpu.utilization",
                        f64::from(cpu.usage()) / 100.0,
                        "1",
                    )
                    .label("cpu", i.to_string()),
                );
            }
            out.push(Sample::new(
                "system.cpu.utilization",
                f64::from(self.system.global_cpu_usage()) / 100.0,
                "1",
            ));
        }
        let m = &self.system;
        for (name, bytes) in [
            ("system.memory.usage", m.used_memory()),
            ("system.memory.limit", m.total_memory()),
            ("system.swap.usage", m.used_swap()),
            ("system.swap.limit", m.total_swap()),
        ] {
            out.push(Sample::new(name, bytes as f64, "By"));
        }
        if let Ok(load) = System::load_average() {
            for (window, v) in [("1m", load.one), ("5m", load.five), ("15m", load.fifteen)] {
                out.push(Sample::new("system.cpu.load_average", v, "1").label("window", window));
            }
        }
        if let Some(disks) = &mut self.disks {
            disks.refresh(true);
            let (read, written) = disks.iter().fold((0, 0), |(r, w), d| {
                let u = d.usage();
                (r + u.read_bytes, w + u.written_bytes)
            });
            out.extend(rates(
                "system.disk.io.rate",
                [("read", read), ("write", written)],
                elapsed,
            ));
        }
        if let Some(networks) = &mut self.networks {
            networks.refresh(true);
            let (rx, tx) = networks.iter().fold((0, 0), |(r, t), (_, n)| {
                (r + n.received(), t + n.transmitted())
            });
            out.extend(rates(
                "system.network.io.rate",
                [("receive", rx), ("transmit", tx)],
                elapsed,
            ));
        }
        out.extend(self.process(elapsed.is_some()));
        out
    }

    /// Flightdeck's own process.
    fn process(&mut self, with_cpu: bool) -> Vec<Sample> {
        let Some(pid) = self.pid else {
            return Vec::new();
        };
        let kind = ProcessRefreshKind::nothing()
            .with_cpu()
            .with_memory()
            .with_tasks();
        self.system
            .refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
        let Some(p) = self.system.process(pid) else {
            return Vec::new();
        };
        let mut out = vec![Sample::new("process.memory.usage", p.memory() as f64, "By")];
        if with_cpu {
            // A fraction of one core: 2.0 is two cores busy.
            out.push(Sample::new(
                "process.cpu.utilization",
                f64::from(p.cpu_usage()) / 100.0,
                "1",
            ));
        }
        if let Some(tasks) = p.tasks() {
            out.push(Sample::new(
                "process.thread.count",
                tasks.len() as f64,
                "{thread}",
            ));
        }
        if let Some(files) = p.open_files() {
            out.push(Sample::new(
                "process.open_file_descriptor.count",
                files as f64,
                "{file}",
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_read_has_rates_and_cpu_use() {
        let mut host = Host::new().unwrap();
        assert!(host.describe()["cpus"].as_u64().unwrap() >= 1);
        let first = host.sample();
        let names = |s: &[Sample]| s.iter().map(|s| s.name).collect::<Vec<_>>();
        assert!(names(&first).contains(&"system.memory.usage"));
        assert!(
            !names(&first).contains(&"system.cpu.utilization"),
            "no difference yet"
        );
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let second = host.sample();
        for name in [
            "system.cpu.utilization",
            "system.network.io.rate",
            "process.memory.usage",
            "process.cpu.utilization",
        ] {
            assert!(
                names(&second).contains(&name),
                "{name} in {:?}",
                names(&second)
            );
        }
        let total = second
            .iter()
            .find(|s| s.name == "system.cpu.utilization" && s.labels.is_empty())
            .unwrap();
        assert!((0.0..=1.0).contains(&total.value), "{total:?}");
        let rss = second
            .iter()
            .find(|s| s.name == "process.memory.usage")
            .unwrap();
        assert!(
            rss.value > 1e6,
            "this test's own process uses memory: {rss:?}"
        );
    }
}
