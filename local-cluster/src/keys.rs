//! Map keys for what Mesos names within a framework: a task id or an executor id is unique
//! only among its framework's, so the cores key their maps by the pair. The fields are in
//! that order so maps iterate by framework first (as the `(String, String)` tuples did).

/// A task: its framework's id and its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TaskKey {
    pub(crate) framework_id: String,
    pub(crate) task_id: String,
}

impl TaskKey {
    pub(crate) fn new(framework_id: impl Into<String>, task_id: impl Into<String>) -> TaskKey {
        TaskKey {
            framework_id: framework_id.into(),
            task_id: task_id.into(),
        }
    }
}

/// An executor: its framework's id and its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ExecutorKey {
    pub(crate) framework_id: String,
    pub(crate) executor_id: String,
}

impl ExecutorKey {
    pub(crate) fn new(
        framework_id: impl Into<String>,
        executor_id: impl Into<String>,
    ) -> ExecutorKey {
        ExecutorKey {
            framework_id: framework_id.into(),
            executor_id: executor_id.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_by_framework_then_id() {
        let mut keys = [
            TaskKey::new("f2", "a"),
            TaskKey::new("f1", "b"),
            TaskKey::new("f1", "a"),
        ];
        keys.sort();
        let pairs: Vec<_> = keys
            .iter()
            .map(|k| (k.framework_id.as_str(), k.task_id.as_str()))
            .collect();
        assert_eq!(pairs, [("f1", "a"), ("f1", "b"), ("f2", "a")]);
    }
}
