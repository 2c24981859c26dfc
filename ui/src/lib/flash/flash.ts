// The Flash tool's shell commands and the pure parts of its screen: offsets, throughput and ETA from byte progress.
import { Channel } from "@tauri-apps/api/core";
import type { FilePurpose, FlashProgress, ImageChoice } from "../backend/bindings";
import { backend } from "../backend/ipc";

export const pickFile = (purpose: FilePurpose) => backend.pick_file(purpose);
export const checkFlashImages = (images: ImageChoice[]) => backend.check_flash_images(images);
export const cancelFlash = () => backend.cancel_flash();

export function flashBoard(port: string, baud: number, images: ImageChoice[], onProgress: (p: FlashProgress) => void) {
  const channel = new Channel<FlashProgress>();
  channel.onmessage = onProgress;
  return backend.flash_board(port, baud, images, channel);
}

export function ramLoadBoard(port: string, baud: number, file: number, onProgress: (p: FlashProgress) => void) {
  const channel = new Channel<FlashProgress>();
  channel.onmessage = onProgress;
  return backend.ram_load_board(port, baud, file, channel);
}

/** The usual offsets of an ESP32 build (flasher_args.json), offered by name. */
export const COMMON_OFFSETS: { label: string; offset: number }[] = [
  { label: "bootloader (ESP32, S2)", offset: 0x1000 },
  { label: "bootloader (C3, S3, C6, H2)", offset: 0x0 },
  { label: "partition table", offset: 0x8000 },
  { label: "ota data", offset: 0xd000 },
  { label: "app (factory)", offset: 0x10000 },
];

/** `0x10000` or `65536` to a number; null for anything else (not a whole non-negative 32-bit number). */
export function parseOffset(text: string): number | null {
  const t = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^[0-9]+$/.test(t) ? parseInt(t, 10) : NaN;
  return Number.isSafeInteger(value) && value >= 0 && value <= 0xffffffff ? value : null;
}

export const hex = (offset: number) => `0x${offset.toString(16).padStart(5, "0")}`;

/** A progress sample with the time it arrived. */
export interface Sample {
  done: number;
  at: number;
}

/** Bytes per second over the samples of the last `windowMs` (the whole run until then); null before two samples. */
export function throughput(samples: Sample[], windowMs = 3000): number | null {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  const first = samples.find((s) => last.at - s.at <= windowMs) ?? samples[0];
  const base = first === last ? samples[samples.length - 2] : first;
  const seconds = (last.at - base.at) / 1000;
  return seconds > 0 ? (last.done - base.done) / seconds : null;
}

/** Seconds left at `rate` bytes/s; null when unknown. */
export function eta(done: number, total: number, rate: number | null): number | null {
  if (rate === null || rate <= 0 || total <= 0) return null;
  return Math.max(0, (total - done) / rate);
}

export function formatRate(rate: number | null): string {
  if (rate === null) return "–";
  return rate >= 1024 * 1024 ? `${(rate / (1024 * 1024)).toFixed(2)} MiB/s` : `${(rate / 1024).toFixed(1)} KiB/s`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null) return "–";
  const s = Math.ceil(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
