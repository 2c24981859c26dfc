// Shell commands of practice mode and the port list.
import { call } from "../backend/ipc";
import type { BoardRequest, PortList, PracticeStatus } from "./types";

export const listPorts = () => call<PortList>("list_ports");
export const practiceStatus = () => call<PracticeStatus>("practice_status");
export const startSimBoards = (request: BoardRequest) => call<PracticeStatus>("start_sim_boards", { ...request });
export const stopSimBoards = () => call<PracticeStatus>("stop_sim_boards");
export const startEmulator = () => call<PracticeStatus>("start_emulator");
export const stopEmulator = () => call<PracticeStatus>("stop_emulator");
