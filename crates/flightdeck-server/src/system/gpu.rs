//! NVIDIA GPUs through NVML (`nvml-wrapper`, which loads the driver's library when the
//! server starts, so the binary builds and runs where there is none): per device its
//! utilisation, memory, temperature and power, and the memory of each process on it. Where
//! NVML cannot start (no driver, no device), the reason is kept for the page to show and
//! nothing else happens.

use super::Sample;
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::enums::device::UsedGpuMemory;

/// The GPUs of the host, or why there are none to read.
pub enum Gpus {
    Found(Box<Nvml>),
    None(String),
}

impl Gpus {
    pub fn open() -> Gpus {
        match Nvml::init() {
            Ok(nvml) => match nvml.device_count() {
                Ok(0) => Gpus::None("no GPU found: the NVIDIA driver reports no device".into()),
                Ok(_) => Gpus::Found(Box::new(nvml)),
                Err(e) => Gpus::None(format!("no GPU found: NVML could not count devices ({e})")),
            },
            Err(e) => Gpus::None(format!(
                "no GPU found: the NVIDIA driver's library could not be loaded ({e})"
            )),
        }
    }

    /// The devices (index and name), or the reason there are none.
    pub fn describe(&self) -> serde_json::Value {
        match self {
            Gpus::None(reason) => serde_json::json!({"available": false, "reason": reason}),
            Gpus::Found(nvml) => {
                let count = nvml.device_count().unwrap_or(0);
                let devices: Vec<serde_json::Value> = (0..count)
                    .filter_map(|i| nvml.device_by_index(i).ok().map(|d| (i, d)))
                    .map(|(i, d)| {
                        serde_json::json!({
                            "index": i,
                            "name": d.name().ok(),
                            "memory_bytes": d.memory_info().ok().map(|m| m.total),
                        })
                    })
                    .collect();
                serde_json::json!({"available": true, "devices": devices})
            }
        }
    }

    /// One read of every device; a value a device does not report is left out.
    pub fn sample(&self) -> Vec<Sample> {
        let Gpus::Found(nvml) = self else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in 0..nvml.device_count().unwrap_or(0) {
            let Ok(d) = nvml.device_by_index(i) else {
                continue;
            };
            let gpu = i.to_string();
            let s = |name: &'static str, v: f64, unit: &'static str| {
                Sample::new(name, v, unit).label("gpu", gpu.clone())
            };
            if let Ok(u) = d.utilization_rates() {
                out.push(s("gpu.utilization", f64::from(u.gpu) / 100.0, "1"));
                out.push(s(
                    "gpu.memory.utilization",
                    f64::from(u.memory) / 100.0,
                    "1",
                ));
            }
            if let Ok(m) = d.memory_info() {
                out.push(s("gpu.memory.usage", m.used as f64, "By"));
                out.push(s("gpu.memory.limit", m.total as f64, "By"));
            }
            if let Ok(t) = d.temperature(TemperatureSensor::Gpu) {
                out.push(s("gpu.temperature", f64::from(t), "Cel"));
            }
            if let Ok(mw) = d.power_usage() {
                out.push(s("gpu.power", f64::from(mw) / 1000.0, "W"));
            }
            for p in d.running_compute_processes().unwrap_or_default() {
                if let UsedGpuMemory::Used(bytes) = p.used_gpu_memory {
                    out.push(
                        s("gpu.process.memory.usage", bytes as f64, "By")
                            .label("pid", p.pid.to_string()),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds on a machine with or without an NVIDIA GPU: either devices are listed and read,
    /// or the reason is given and reading gives nothing.
    #[test]
    fn gpus_are_read_or_their_absence_is_explained() {
        let gpus = Gpus::open();
        let d = gpus.describe();
        match &gpus {
            Gpus::Found(_) => {
                assert_eq!(d["available"], true);
                assert!(!d["devices"].as_array().unwrap().is_empty());
                assert!(gpus.sample().iter().any(|s| s.name == "gpu.memory.limit"));
            }
            Gpus::None(_) => {
                assert_eq!(d["available"], false);
                assert!(
                    d["reason"].as_str().unwrap().starts_with("no GPU found"),
                    "{d}"
                );
                assert!(gpus.sample().is_empty());
            }
        }
    }
}
