// Station settings kept in the window (localStorage): the station name recorded in the ledger.
export interface StationSettings {
  stationName: string;
}

const KEY = "keyline.station-settings";
const defaults: StationSettings = { stationName: "" };

function load(): StationSettings {
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(KEY) ?? "{}") };
  } catch {
    return { ...defaults };
  }
}

export const lineSettings = {
  get value(): StationSettings {
    return load();
  },
  save(settings: StationSettings) {
    localStorage.setItem(KEY, JSON.stringify(settings));
  },
};
