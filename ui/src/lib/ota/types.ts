// Types of the OTA screen, generated from the Rust side (../backend/bindings.ts); re-exported here for the screen.
export type {
  AppDesc,
  AppImage,
  EmbeddedServerInfo,
  EmbeddedServerSettings,
  ImageReport,
  OtaDeviceRow,
  OtaServerStatus,
  OtaTargetChoice,
  PushEvent,
  PushReport,
  OtaPushChoice,
  SignedImage,
  SimOtaDevice,
} from "../backend/bindings";
