// The practice-mode emulator as the Cloud connecting screen sees it: the emulator part of the practice status.
import { practiceStatus, startEmulator } from "../ports/api";

export const practiceEmulator = async () => (await practiceStatus()).emulator;
export const startPracticeEmulator = async () => (await startEmulator()).emulator;
