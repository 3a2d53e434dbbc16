//! Master-side validation of tasks and executors in LAUNCH / LAUNCH_GROUP (spec §2.3,
//! `src/master/validation.cpp`). Failures become TASK_ERROR / REASON_TASK_INVALID updates.

use crate::pb::v1::{ExecutorInfo, TaskInfo, executor_info::Type as ExecType};

/// Checks an id chosen by a framework (task or executor id).
pub(crate) fn id(kind: &str, value: &str) -> Result<(), String> {
    let bad = if value.is_empty() {
        Some("ID must not be empty")
    } else if value.len() > 255 {
        Some("ID must not be greater than 255 characters")
    } else if value == "." || value == ".." {
        Some("'.' and '..' are reserved")
    } else if value
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        Some("ID must not contain slash, backslash or control characters")
    } else {
        None
    };
    match bad {
        Some(why) => Err(format!("{kind} ID '{value}' is invalid: {why}")),
        None => Ok(()),
    }
}

/// Checks one task of a LAUNCH (`in_group == false`) or LAUNCH_GROUP.
pub(crate) fn task(task: &TaskInfo, agent_id: &str, in_group: bool) -> Result<(), String> {
    id("Task", &task.task_id.value)?;
    if task.agent_id.value != agent_id {
        return Err(format!("Task uses invalid agent: {}", task.agent_id.value));
    }
    if in_group {
        if task.executor.is_some() {
            return Err("'TaskInfo.executor' must not be set".into());
        }
        if task.command.is_none() {
            return Err("'TaskInfo.command' must be set".into());
        }
        return Ok(());
    }
    match (&task.command, &task.executor) {
        (Some(_), None) => Ok(()),
        (None, Some(e)) => custom_executor(e),
        _ => Err(
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                .into(),
        ),
    }
}

/// An executor given in `TaskInfo.executor`: type unset or CUSTOM, with a command.
fn custom_executor(e: &ExecutorInfo) -> Result<(), String> {
    id("Executor", &e.executor_id.value)?;
    match e.r#type.and_then(|t| ExecType::try_from(t).ok()) {
        None | Some(ExecType::Custom) => {}
        Some(_) => return Err("'ExecutorInfo.type' must be 'CUSTOM'".into()),
    }
    if e.command.is_none() {
        return Err("Executor must have a CommandInfo".into());
    }
    Ok(())
}

/// The executor of a LAUNCH_GROUP: type DEFAULT or CUSTOM; DEFAULT without command.
pub(crate) fn executor_for_group(e: &ExecutorInfo) -> Result<(), String> {
    id("Executor", &e.executor_id.value)?;
    match e.r#type.and_then(|t| ExecType::try_from(t).ok()) {
        Some(ExecType::Default) if e.command.is_some() => {
            Err("'ExecutorInfo.command' must not be set for 'DEFAULT' executor".into())
        }
        Some(ExecType::Default) => Ok(()),
        Some(ExecType::Custom) if e.command.is_none() => {
            Err("Executor must have a CommandInfo".into())
        }
        Some(ExecType::Custom) => Ok(()),
        _ => Err("'ExecutorInfo.type' must be set".into()),
    }
}
