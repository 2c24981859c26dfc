//! Progress of long operations, streamed to the UI over a per-call `tauri::ipc::Channel`.

use serde::Serialize;
use tauri::ipc::Channel;

/// One progress message; the UI reads `{event, data}`.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum ProgressEvent {
    /// Step `index` of `total` (1-based) has started; `step` is a stable id the UI translates.
    #[serde(rename_all = "camelCase")]
    Step {
        /// Stable step id, e.g. `generatingRootKey`, `remembering`.
        step: &'static str,
        /// 1-based position.
        index: u32,
        /// Number of steps in this run.
        total: u32,
    },
    /// The operation finished; `names` are the CAs it stored.
    #[serde(rename_all = "camelCase")]
    Finished {
        /// Store names of the CAs created or imported.
        names: Vec<String>,
    },
}

/// Sends numbered steps over a channel; a closed channel (UI gone) is not an error.
pub struct StepReporter {
    channel: Channel<ProgressEvent>,
    total: u32,
    started: u32,
}

impl StepReporter {
    /// A reporter for a run of `total` steps, known up front.
    pub fn new(channel: Channel<ProgressEvent>, total: usize) -> Self {
        StepReporter { channel, total: u32::try_from(total).unwrap_or(u32::MAX), started: 0 }
    }

    /// Announces that `step` (a stable id) has started; it gets the next index. Steps past
    /// `total` are not sent, so the UI never shows "step 5 of 4".
    pub fn step(&mut self, step: &'static str) {
        if self.started < self.total {
            self.started += 1;
            let _ = self.channel.send(ProgressEvent::Step { step, index: self.started, total: self.total });
        }
    }

    /// Announces the end of the run.
    pub fn finish(&self, names: Vec<String>) {
        let _ = self.channel.send(ProgressEvent::Finished { names });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::{json, Value};
    use tauri::ipc::InvokeResponseBody;

    use super::*;

    #[test]
    fn steps_are_numbered_and_end_with_finished() {
        let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
        let sink = seen.clone();
        let channel = Channel::new(move |body| {
            if let InvokeResponseBody::Json(text) = body {
                sink.lock().unwrap().push(serde_json::from_str(&text).unwrap());
            }
            Ok(())
        });
        let mut progress = StepReporter::new(channel, 2);
        progress.step("writingFiles");
        progress.step("remembering");
        progress.step("extra"); // past the last step: ignored
        progress.finish(vec!["root".into(), "signer".into()]);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                json!({"event": "step", "data": {"step": "writingFiles", "index": 1, "total": 2}}),
                json!({"event": "step", "data": {"step": "remembering", "index": 2, "total": 2}}),
                json!({"event": "finished", "data": {"names": ["root", "signer"]}}),
            ]
        );
    }
}
