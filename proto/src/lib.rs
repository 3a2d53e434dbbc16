//! Mesos v1 protobuf messages (scheduler, executor, common), RecordIO framing and call builders
