//! The protobuf types this crate speaks, from the `proto` crate, under short names.

pub(crate) use proto::executor as exec;
pub(crate) use proto::scheduler as sched;
pub(crate) use proto::v1;
