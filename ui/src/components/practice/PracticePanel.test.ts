import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import PracticePanel from "./PracticePanel.svelte";
import type { EmulatorStatus, PortInfo, PracticeStatus, SimBoard } from "../../lib/ports/types";

afterEach(() => {
  cleanup();
  clearMocks();
});

const emulatorOff: EmulatorStatus = {
  state: "off",
  version: "1.5.33",
  region: "us-east-1",
  endpointUrl: null,
  mqttAddress: null,
  binary: null,
  logPath: null,
  error: null,
};

function simPort(board: SimBoard): PortInfo {
  return {
    path: board.path,
    label: board.label,
    kind: "simulated",
    likelyEsp32: true,
    usbId: null,
    serialNumber: null,
    manufacturer: null,
    product: null,
    firmware: board.firmware,
  };
}

/** A stand-in shell that keeps boards and the emulator like the real commands do. */
function fakeShell(initial: Partial<PracticeStatus> = {}) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let status: PracticeStatus = { enabled: true, simAvailable: true, boards: [], timing: null, emulator: emulatorOff, ...initial };
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
    switch (cmd) {
      case "practice_status":
        return status;
      case "list_ports":
        return { ports: status.boards.map(simPort), warnings: [] };
      case "start_sim_boards": {
        const { count, firmware, timing } = args as { count: number; firmware: SimBoard["firmware"]; timing: "instant" | "datasheet" };
        const boards = Array.from({ length: count }, (_, index) => ({
          index,
          label: `Simulated board ${index + 1}`,
          path: `/dev/pts/${10 + index}`,
          firmware,
        }));
        status = { ...status, boards, timing };
        return status;
      }
      case "stop_sim_boards":
        status = { ...status, boards: [], timing: null };
        return status;
      case "start_emulator":
        status = {
          ...status,
          emulator: {
            ...emulatorOff,
            state: "notInstalled",
            binary: "/work/main/.venv/bin/ministack",
            error: {
              code: "emulator_not_installed",
              message: "the local AWS emulator (ministack 1.5.33) is not installed",
              hint: "In the Keyline checkout run `scripts/keyline-dev.sh setup`.",
            },
          },
        };
        return status;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return calls;
}

describe("Practice panel", () => {
  test("starting boards sends count, firmware and timing, then lists them as ports; stop removes them", async () => {
    const calls = fakeShell();
    render(PracticePanel);
    await vi.waitFor(() => expect(screen.getByTestId("boards-state").textContent).toContain("Stopped"));

    await fireEvent.input(screen.getByTestId("boards-count"), { target: { value: "3" } });
    await fireEvent.change(screen.getByTestId("boards-firmware"), { target: { value: "esp-helper" } });
    await fireEvent.change(screen.getByTestId("boards-timing"), { target: { value: "instant" } });
    await fireEvent.click(screen.getByTestId("boards-start"));

    await vi.waitFor(() => expect(screen.getAllByTestId("board-row")).toHaveLength(3));
    expect(calls.find((c) => c.cmd === "start_sim_boards")?.args).toEqual({ count: 3, firmware: "esp-helper", timing: "instant" });
    expect(screen.getByTestId("boards-state").textContent).toContain("3 running");
    const ports = screen.getAllByTestId("port-row");
    expect(ports.map((p) => p.textContent)).toEqual([
      expect.stringContaining("Simulated board 1 /dev/pts/10"),
      expect.stringContaining("Simulated board 2"),
      expect.stringContaining("Simulated board 3"),
    ]);
    expect(ports[0].dataset.kind).toBe("simulated");

    await fireEvent.click(screen.getByTestId("boards-stop"));
    await vi.waitFor(() => expect(screen.queryAllByTestId("board-row")).toHaveLength(0));
    expect(screen.getByTestId("ports-empty")).toBeTruthy();
  });

  test("the emulator is flagged as an emulator, and a missing install says how to fix it", async () => {
    fakeShell();
    render(PracticePanel);
    await vi.waitFor(() => expect(screen.getByTestId("emulator-flag").textContent).toContain(
      "Local AWS emulator (ministack 1.5.33) — not a real AWS account",
    ));
    await fireEvent.click(screen.getByTestId("emulator-start"));
    await vi.waitFor(() => expect(screen.getByTestId("emulator-state").textContent).toContain("Not installed"));
    expect(screen.getByTestId("error-code").textContent).toBe("emulator_not_installed");
    expect(screen.getByTestId("error-hint").textContent).toContain("keyline-dev.sh setup");
  });

  test("a running emulator shows its endpoint", async () => {
    fakeShell({
      emulator: { ...emulatorOff, state: "running", endpointUrl: "http://127.0.0.1:4566", mqttAddress: "127.0.0.1:8883" },
    });
    render(PracticePanel);
    await vi.waitFor(() => expect(screen.getByTestId("emulator-endpoint").textContent).toBe("http://127.0.0.1:4566"));
    expect(screen.getByTestId("emulator-state").textContent).toContain("Running");
    expect(screen.getByTestId("practice-emulator").dataset.state).toBe("running");
  });

  test("outside practice mode only the port list is shown, with a hint how to turn practice on", async () => {
    fakeShell({ enabled: false });
    render(PracticePanel);
    await vi.waitFor(() => expect(screen.getByTestId("practice-off").textContent).toContain("--practice"));
    expect(screen.queryByTestId("practice-boards")).toBeNull();
    expect(screen.queryByTestId("practice-emulator")).toBeNull();
    expect(screen.getByTestId("practice-ports")).toBeTruthy();
  });
});
