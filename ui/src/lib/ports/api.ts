// Shell commands of practice mode and the port list.
import { backend } from "../backend/ipc";
import type { BoardRequest } from "./types";

export const listPorts = () => backend.list_ports();
export const practiceStatus = () => backend.practice_status();
export const startSimBoards = (request: BoardRequest) => backend.start_sim_boards(request.count, request.firmware, request.timing);
export const stopSimBoards = () => backend.stop_sim_boards();
export const startEmulator = () => backend.start_emulator();
export const stopEmulator = () => backend.stop_emulator();
