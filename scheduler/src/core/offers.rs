//! Offer matching as a pure function: given one offer's resources and what is wanted, which
//! tasks fit (spec §4.2 resources; scalars rounded to Mesos's 0.001). The reducer turns a
//! [`Fit`] into TaskInfos and an ACCEPT, or a DECLINE when it is empty.

use proto::resources::{port_ranges, round_scalar, sum_scalar, take_ports};
use proto::v1::Resource;

/// Resource sizes of the tasks, from the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Sizes {
    /// Our executor's own cpus and mem (each task has its own executor).
    pub executor: (f64, f64),
    /// Server task cpus, mem, ports; whether it runs in our executor.
    pub server: Option<ServerSize>,
    /// Worker task mem.
    pub worker_mem: f64,
    /// Fixed worker cpus, or `None` for all that is left.
    pub worker_cpus: Option<f64>,
    /// Fewest cpus a worker is launched with.
    pub worker_min_cpus: f64,
}

/// What the server task needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSize {
    /// Task cpus.
    pub cpus: f64,
    /// Task mem, MB.
    pub mem: f64,
    /// Ports from the offer.
    pub ports: usize,
    /// Runs in our custom executor (builtin) rather than a Docker container (p2pool).
    pub in_executor: bool,
}

/// What to launch from one offer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fit {
    /// The server task's ports, if it fits and is wanted.
    pub server: Option<Vec<u64>>,
    /// Cpus of each worker that fits.
    pub workers: Vec<f64>,
}

impl Fit {
    /// Nothing fits: decline the offer.
    pub fn is_empty(&self) -> bool {
        self.server.is_none() && self.workers.is_empty()
    }
}

/// Fits a server (if `want_server`) and then up to `worker_room` workers into `resources`.
pub fn fit_offer(
    resources: &[Resource],
    want_server: bool,
    worker_room: usize,
    sizes: &Sizes,
) -> Fit {
    let mut cpus = sum_scalar(resources, "cpus");
    let mut mem = sum_scalar(resources, "mem");
    let mut fit = Fit::default();
    if let (true, Some(server)) = (want_server, &sizes.server) {
        let (ec, em) = if server.in_executor {
            sizes.executor
        } else {
            (0.0, 0.0)
        };
        let need_cpus = round_scalar(server.cpus + ec);
        let need_mem = round_scalar(server.mem + em);
        let ports = take_ports(&port_ranges(resources), server.ports);
        if let (true, Some(ports)) = (cpus >= need_cpus && mem >= need_mem, ports) {
            cpus = round_scalar(cpus - need_cpus);
            mem = round_scalar(mem - need_mem);
            fit.server = Some(ports);
        }
    }
    let (ec, em) = sizes.executor;
    for _ in 0..worker_room {
        let left = round_scalar(cpus - ec);
        let want = sizes.worker_cpus.unwrap_or(left);
        let need_mem = round_scalar(sizes.worker_mem + em);
        if want > left || want < sizes.worker_min_cpus || want <= 0.0 || mem < need_mem {
            break;
        }
        cpus = round_scalar(cpus - ec - want);
        mem = round_scalar(mem - need_mem);
        fit.workers.push(round_scalar(want));
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resources::{cpus, mem, ports};

    fn sizes() -> Sizes {
        Sizes {
            executor: (0.05, 32.0),
            server: Some(ServerSize {
                cpus: 0.1,
                mem: 256.0,
                ports: 1,
                in_executor: true,
            }),
            worker_mem: 128.0,
            worker_cpus: None,
            worker_min_cpus: 0.1,
        }
    }

    fn offer(c: f64, m: f64, p: &[u64]) -> Vec<Resource> {
        vec![cpus(c), mem(m), ports(p)]
    }

    #[test]
    fn table() {
        struct Case {
            name: &'static str,
            offer: Vec<Resource>,
            server: bool,
            room: usize,
            sizes: Sizes,
            want: Fit,
        }
        let fixed = Sizes {
            worker_cpus: Some(1.0),
            ..sizes()
        };
        let p2pool = Sizes {
            server: Some(ServerSize {
                cpus: 1.0,
                mem: 256.0,
                ports: 2,
                in_executor: false,
            }),
            ..sizes()
        };
        let cases = vec![
            Case {
                name: "server alone takes one port and its executor's share",
                offer: offer(4.0, 1024.0, &[31000, 31001]),
                server: true,
                room: 0,
                sizes: sizes(),
                want: Fit {
                    server: Some(vec![31000]),
                    workers: vec![],
                },
            },
            Case {
                name: "worker takes every cpu left after its executor",
                offer: offer(4.0, 1024.0, &[]),
                server: false,
                room: 1,
                sizes: sizes(),
                want: Fit {
                    server: None,
                    workers: vec![3.95],
                },
            },
            Case {
                name: "server and worker in one offer",
                offer: offer(2.0, 1024.0, &[31000]),
                server: true,
                room: 1,
                sizes: sizes(),
                want: Fit {
                    server: Some(vec![31000]),
                    workers: vec![1.8],
                },
            },
            Case {
                name: "server needs a port",
                offer: offer(4.0, 1024.0, &[]),
                server: true,
                room: 0,
                sizes: sizes(),
                want: Fit::default(),
            },
            Case {
                name: "not enough memory for a worker",
                offer: offer(4.0, 150.0, &[]),
                server: false,
                room: 1,
                sizes: sizes(),
                want: Fit::default(),
            },
            Case {
                name: "too few cpus for a worker",
                offer: offer(0.1, 1024.0, &[]),
                server: false,
                room: 1,
                sizes: sizes(),
                want: Fit::default(),
            },
            Case {
                name: "fixed-size workers, as many as fit within the room",
                offer: offer(3.2, 1024.0, &[]),
                server: false,
                room: 5,
                sizes: fixed.clone(),
                want: Fit {
                    server: None,
                    workers: vec![1.0, 1.0, 1.0],
                },
            },
            Case {
                name: "room limits the workers",
                offer: offer(8.0, 4096.0, &[]),
                server: false,
                room: 2,
                sizes: fixed,
                want: Fit {
                    server: None,
                    workers: vec![1.0, 1.0],
                },
            },
            Case {
                name: "p2pool takes two ports and no executor share",
                offer: offer(1.0, 256.0, &[31005, 31007]),
                server: true,
                room: 1,
                sizes: p2pool,
                want: Fit {
                    server: Some(vec![31005, 31007]),
                    workers: vec![],
                },
            },
        ];
        for case in cases {
            let got = fit_offer(&case.offer, case.server, case.room, &case.sizes);
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    #[test]
    fn hostile_offers_fit_nothing() {
        let nan = vec![cpus(f64::NAN), mem(f64::INFINITY)];
        assert!(fit_offer(&nan, true, 3, &sizes()).is_empty());
        assert!(fit_offer(&[], true, 3, &sizes()).is_empty());
        let negative = vec![cpus(-4.0), mem(-1.0)];
        assert!(fit_offer(&negative, false, 3, &sizes()).is_empty());
    }
}
