//! OFFERS: first the server task, then one worker per agent (up to the caps), each offer
//! answered at once — an ACCEPT with the tasks (each persisted before it) or a DECLINE with
//! the refuse filter (spec §5 "Offers"). Nothing is held, so a RESCIND needs no work.

use std::time::Instant;

use proto::calls::offer::{launch as launch_op, refuse_for};
use proto::calls::scheduler as calls;
use proto::framework::TaskKind;
use proto::v1::{Offer, OfferId, TaskInfo};

use super::offers::fit_offer;
use super::task::Task;
use super::{Action, State, StoreOp, index_of, launch};

fn new_task_id(rng: &mut impl rand::Rng, kind: TaskKind) -> String {
    let prefix = match kind {
        TaskKind::Server => "server",
        TaskKind::Worker => "worker",
    };
    let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
    format!("{prefix}-{id}")
}

impl State {
    pub(crate) fn on_offers(&mut self, offers: Vec<Offer>, now: Instant, out: &mut Vec<Action>) {
        let Some(fid) = self.framework_id.clone() else {
            return;
        };
        let filters = Some(refuse_for(self.cfg.timing.refuse.as_secs_f64()));
        let mut declined: Vec<OfferId> = Vec::new();
        for offer in offers {
            let infos = if self.tearing_down {
                Vec::new()
            } else {
                self.plan(&offer, now, out)
            };
            if infos.is_empty() {
                self.stats.offers_declined += 1;
                declined.push(offer.id);
                continue;
            }
            self.stats.offers_accepted += 1;
            let call = calls::accept(&fid, vec![offer.id], vec![launch_op(infos)], filters);
            out.push(Action::Call(Box::new(call)));
        }
        if !declined.is_empty() {
            out.push(Action::Call(Box::new(calls::decline(
                &fid, declined, filters,
            ))));
        }
    }

    /// How many more workers may go to `agent` now.
    fn worker_room(&self, agent: &str, now: Instant) -> usize {
        if !self.workers_launchable(now) {
            return 0;
        }
        let per_agent = self.cfg.worker.max_per_agent;
        let here = self.workers_on.get(agent).copied().unwrap_or(0);
        let left = self
            .cfg
            .worker
            .max_workers
            .map_or(usize::MAX, |max| max.saturating_sub(self.active_workers));
        per_agent.saturating_sub(here).min(left)
    }

    /// The tasks `offer` launches; each is recorded (and its record persisted) first.
    fn plan(&mut self, offer: &Offer, now: Instant, out: &mut Vec<Action>) -> Vec<TaskInfo> {
        let Some(fid) = self.framework_id.clone() else {
            return Vec::new();
        };
        let want_server = self.server_launchable(now);
        let room = self.worker_room(&offer.agent_id.value, now);
        let fit = fit_offer(&offer.resources, want_server, room, &self.cfg.sizes);
        let mut infos = Vec::new();
        if let Some(ports) = &fit.server {
            let id = new_task_id(&mut self.rng, TaskKind::Server);
            if let Some((info, rec)) = launch::server(&self.cfg, &fid, offer, &id, ports) {
                out.push(Action::Persist(StoreOp::PutTask(rec.clone())));
                self.insert_task(Task::new(rec, now));
                self.stats.launched[index_of(TaskKind::Server)] += 1;
                infos.push(info);
            }
        }
        let Some(pool_url) = self.pool_url().map(str::to_owned) else {
            return infos;
        };
        if self
            .worker_spec
            .as_ref()
            .is_none_or(|(url, _)| *url != pool_url)
        {
            let data = launch::worker_spec(&self.cfg, &pool_url);
            self.worker_spec = Some((pool_url.clone(), data));
        }
        for cpus in fit.workers {
            let id = new_task_id(&mut self.rng, TaskKind::Worker);
            let data = self
                .worker_spec
                .as_ref()
                .map(|(_, d)| d.clone())
                .unwrap_or_default();
            let (info, rec) = launch::worker(&self.cfg, &fid, offer, &id, cpus, &pool_url, data);
            out.push(Action::Persist(StoreOp::PutTask(rec.clone())));
            self.insert_task(Task::new(rec, now));
            self.stats.launched[index_of(TaskKind::Worker)] += 1;
            infos.push(info);
        }
        infos
    }
}
