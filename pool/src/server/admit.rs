//! Admission of a new connection: the pool-wide cap (`max_connections`) and the per-address
//! cap (`max_connections_per_ip`, issue 11 hole 6: one address must not take every slot). A
//! [`Slot`] holds a connection's place in both counts and gives it back on drop, so a
//! connection task that ends in any way (even a panic) frees its place.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::shared::{Shared, lock};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `max_connections` connections are open.
    Full,
    /// This address has `max_connections_per_ip` connections open.
    PerIp,
}

/// The connection limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Most connections in all.
    pub max: usize,
    /// Most connections from one address; 0: no per-address limit.
    pub per_ip: usize,
    /// Loopback addresses are not held to `per_ip` (a local cluster's miners all share it).
    pub loopback_unlimited: bool,
}

/// Open connections per peer address (IPv4-mapped IPv6 counted as IPv4).
#[derive(Debug, Default)]
pub(crate) struct PerIp(HashMap<IpAddr, usize>);

/// One admitted connection's place in the counts.
pub(crate) struct Slot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Slot {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = lock(&self.shared.per_ip);
        if let Some(n) = per_ip.0.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.0.remove(&self.ip);
            }
        }
        self.shared.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A slot for a connection from `ip`, or why not.
pub(crate) fn admit(shared: &Arc<Shared>, ip: IpAddr, caps: Caps) -> Result<Slot, Refused> {
    let ip = ip.to_canonical();
    let mut per_ip = lock(&shared.per_ip);
    // Counted under the per-address lock, so two accepts cannot both take the last place.
    if shared.connections.load(Ordering::Relaxed) >= caps.max {
        return Err(Refused::Full);
    }
    let limited = caps.per_ip > 0 && !(caps.loopback_unlimited && ip.is_loopback());
    let open = per_ip.0.entry(ip).or_insert(0);
    if limited && *open >= caps.per_ip {
        return Err(Refused::PerIp);
    }
    *open += 1;
    shared.connections.fetch_add(1, Ordering::Relaxed);
    drop(per_ip);
    Ok(Slot {
        shared: shared.clone(),
        ip,
    })
}
