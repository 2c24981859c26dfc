//! Clean exit on SIGINT/SIGTERM: the app leaves through Tauri's exit path, so practice resources (simulated
//! boards, the emulator process) are stopped instead of outliving the window.

use tauri::{AppHandle, Runtime};

/// Exits the app through Tauri when the process gets Ctrl-C or SIGTERM.
pub fn exit_on_signal<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        if wait_for_signal().await {
            tracing::info!("termination signal received; stopping");
            app.exit(0);
        }
    });
}

#[cfg(unix)]
async fn wait_for_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return false;
    };
    tokio::select! {
        _ = terminate.recv() => true,
        _ = interrupt.recv() => true,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> bool {
    tokio::signal::ctrl_c().await.is_ok()
}
