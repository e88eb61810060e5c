"""``forensics import evtx`` on real public event logs (tests/data/README.md) and on
records shaped like the ``evtx`` package's JSON for the logs no permissively
licensed sample was found for (Partition/Diagnostic, DriverFrameworks, USB 6416)."""

from __future__ import annotations

import doctest
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from casefiles import TABLE_ROWS, csv_text, write_case

from forensics.case import CaseError, load
from forensics.cli import main
from forensics.interchange import import_evtx, windows
from forensics.interchange.windows import WindowsEvents

DATA = Path(__file__).parent / "data" / "evtx"
SECURITY = DATA / "Security_with_size_t.evtx"
SYSMON = DATA / "sysmon.evtx"
DEFENDER = DATA / "ID1116-1117-Defender-threat-detected.evtx"
PRINTER = DATA / "ID4674-6416-New-external-device-PrintNightmare.evtx"
ALL = [SECURITY, SYSMON, DEFENDER, PRINTER]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    before = {p: _sha(p) for p in ALL}
    case = tmp_path_factory.mktemp("imp") / "case"
    result = import_evtx(ALL, case)
    assert {p: _sha(p) for p in ALL} == before  # sources never written to
    rows = pl.read_csv(case / "endpoint.csv", infer_schema=False)
    return result, rows, case


def _count(result, file: Path, event_id: int) -> dict:
    return result.counts.filter(
        (pl.col("file") == file.name) & (pl.col("event_id") == event_id)
    ).row(0, named=True)


def _record(rows: pl.DataFrame, file: Path, record: int) -> dict:
    hit = rows.filter(
        (pl.col("source_file") == file.name) & (pl.col("source_record") == str(record))
    )
    assert hit.height == 1, (file.name, record)
    return hit.row(0, named=True)


def test_counts_per_event_id_read_equals_imported_plus_skipped(imported):
    result, rows, _ = imported
    counts = result.counts
    assert (counts["read"] == counts["imported"] + counts["skipped"]).all()
    assert result.read == result.imported + result.skipped
    assert result.imported == rows.height == result.written.written
    logon = _count(result, SECURITY, 4624)
    # 126 logons: 10 type 2 + 11 type 7 interactive; 88 service, 9 network, 8 system
    assert (logon["read"], logon["imported"], logon["skipped"]) == (126, 21, 105)
    assert "logon type 5 (service): not an interactive logon: 88" in logon["reasons"]
    assert (
        _count(result, SECURITY, 4634)["imported"],
        _count(result, SECURITY, 4647)["imported"],
    ) == (14, 1)
    assert _count(result, SECURITY, 4625)["imported"] == 15
    assert _count(result, SYSMON, 1)["imported"] == 227
    assert _count(result, SYSMON, 11)["imported"] == 34
    assert _count(result, SYSMON, 3)["imported"] == 2
    assert _count(result, SYSMON, 10)["skipped"] == 60  # process access: not imported
    assert _count(result, DEFENDER, 1116)["imported"] == 5
    assert _count(result, DEFENDER, 1117)["imported"] == 1
    kinds = rows.group_by("kind").len().sort("kind")
    assert dict(kinds.iter_rows()) == {
        "av_alert": 6, "file_create": 34, "logoff": 15, "login_failed": 15,
        "logon": 21, "network": 2, "process_start": 227,
    }  # fmt: skip


def test_security_records_land_with_time_machine_user_and_record_id(imported):
    _, rows, _ = imported
    logon = _record(rows, SECURITY, 64)
    assert logon["kind"] == "logon"
    assert logon["at"] == "2015-08-24T06:57:38.546875+00:00"
    assert logon["machine_id"] == "WIN-L0ZZQ76PMUF"
    assert logon["user"] == "WIN-L0ZZQ76PMUF\\Administrator"
    unlock = _record(rows, SECURITY, 448)  # logon type 7: unlock
    assert unlock["kind"] == "logon" and "type 7" in unlock["detail"]
    logoff = _record(rows, SECURITY, 598)  # 4647, user-initiated
    assert (logoff["kind"], logoff["at"]) == ("logoff", "2015-09-12T18:10:56.344500+00:00")
    failed = _record(rows, SECURITY, 75)  # empty TargetDomainName
    assert (failed["kind"], failed["user"]) == ("login_failed", "Administrator")
    network_failed = _record(rows, SECURITY, 452)
    assert network_failed["user"] == "IT104-3\\Student" and "type 3" in network_failed["detail"]


def test_sysmon_uses_utctime_and_sha256_from_hashes(imported):
    _, rows, _ = imported
    ping = _record(rows, SYSMON, 1742)
    assert ping["kind"] == "process_start"
    assert ping["at"] == "2017-12-26T13:10:29.134000+00:00"  # UtcTime, not TimeCreated
    assert ping["process"] == "C:\\Windows\\SysWOW64\\PING.EXE"
    assert ping["user"] == "NT AUTHORITY\\SYSTEM"
    assert ping["machine_id"] == "DESKTOP-2KGM189"
    assert ping["sha256"] == "8f16a431c919a0aa7c9466ec1cdc1e721f30eb5c8182835585a1b74abecb1920"
    net = _record(rows, SYSMON, 2061)  # written 2018-03-06, happened 2017-12-18
    assert (net["kind"], net["at"]) == ("network", "2017-12-18T14:51:29.706000+00:00")
    assert "185.26.182.117:443" in net["detail"]
    created = _record(rows, SYSMON, 1765)
    assert created["kind"] == "file_create" and created["detail"].endswith("AM_Delta.exe")


def test_defender_detection(imported):
    _, rows, _ = imported
    alert = _record(rows, DEFENDER, 176)  # 1117, EventID and EventRecordID stored as text
    assert alert["kind"] == "av_alert"
    assert alert["at"] == "2020-12-11T12:28:44.271182+00:00"  # 100 ns ticks cut to us
    assert alert["machine_id"] == "WIN10-client01.offsec.lan"
    assert alert["user"] == "OFFSEC\\admmig"
    assert alert["detail"].startswith("HackTool:Win32/Mimikatz.D at file:_C:\\Users\\admmig")


def test_print_queue_is_not_a_usb_device(imported):
    result, rows, _ = imported
    assert rows.filter(pl.col("kind").str.starts_with("usb")).height == 0
    printer = _count(result, PRINTER, 6416)
    assert printer["skipped"] == 1 and "PrintQueue: not removable storage" in printer["reasons"]


def test_reimport_adds_nothing_and_is_logged(imported, tmp_path):
    _, rows, case = imported
    work = tmp_path / "case"
    work.mkdir()
    (work / "endpoint.csv").write_bytes((case / "endpoint.csv").read_bytes())
    before = (work / "endpoint.csv").read_bytes()
    again = import_evtx([DEFENDER, SECURITY], work)
    assert again.written.written == 0 and (work / "endpoint.csv").read_bytes() == before
    assert again.skipped == again.read
    assert _count(again, DEFENDER, 1116)["reasons"] == "already in the case: 5"
    log = [json.loads(line) for line in (work / "import-log.jsonl").read_text().splitlines()]
    assert log[-1]["written"] == 0 and log[-1]["read"] == again.read
    assert {s["sha256"] for s in log[-1]["sources"]} == {_sha(DEFENDER), _sha(SECURITY)}


def test_validate_accepts_every_imported_row(imported, tmp_path, capsys):
    _, rows, case = imported
    folder = write_case(tmp_path / "case")
    (folder / "endpoint.csv").write_bytes((case / "endpoint.csv").read_bytes())
    loaded = load(folder)
    assert loaded.quarantine.filter(pl.col("file") == "endpoint.csv").height == 0
    assert loaded.endpoint.height == rows.height
    assert loaded.endpoint["source_record"].null_count() == 0
    # machines named by the logs are not in machines.csv: reported, not dropped
    assert "WIN-L0ZZQ76PMUF" in loaded.unregistered["value"].to_list()
    assert main(["validate", str(folder)]) == 0
    assert "Investigable." in capsys.readouterr().out


def test_cli_import_prints_the_counts(tmp_path, capsys):
    assert main(["import", "evtx", "--case", str(tmp_path / "c"), str(DEFENDER)]) == 0
    out = capsys.readouterr().out
    assert "records read 6 = imported 6 + skipped 0" in out
    assert "1116: read 5, imported 5, skipped 0" in out


def test_appending_to_a_table_without_the_columns_stops(tmp_path):
    folder = write_case(tmp_path / "case", endpoint=csv_text([TABLE_ROWS["machines"][0]]))
    (folder / "endpoint.csv").write_text("event_id,at,machine_id,kind\n", encoding="utf-8")
    with pytest.raises(CaseError, match="endpoint.csv has no column device_id"):
        import_evtx([DEFENDER], folder)


def test_not_an_evtx_file_is_named(tmp_path):
    bogus = tmp_path / "x.evtx"
    bogus.write_bytes(b"not an event log")
    with pytest.raises(CaseError, match=r"x.evtx: not a readable .evtx file"):
        import_evtx([bogus], tmp_path / "case")


# ---------------------------------------------------- records without a public sample


def _6416(cls: str, device: str) -> dict:
    return {
        "SubjectUserName": "li.na",
        "SubjectDomainName": "SHOP",
        "DeviceId": device,
        "DeviceDescription": "Disk drive",
        "ClassName": cls,
    }


def test_6416_only_usb_storage_and_portable_devices():
    m = WindowsEvents()
    usb = m.map(
        "Security",
        6416,
        _6416("DiskDrive", r"USBSTOR\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.00\4C530001&0"),
    )
    assert (usb["kind"], usb["device_id"], usb["user"]) == (
        "usb_connect",
        "4C530001",
        "SHOP\\li.na",
    )
    phone = m.map(
        "Security", 6416, _6416("WPD", r"SWD\WPDBUSENUM\_??_USBSTOR#Disk&Ven_A#7&1a2b&0#{x}")
    )
    assert phone["kind"] == "usb_connect" and phone["device_id"] is None  # made-up id: no serial
    assert "not on USB" in m.map("Security", 6416, _6416("DiskDrive", r"SCSI\Disk&Ven_NVMe\5&1&0"))
    assert "not removable storage" in m.map(
        "Security", 6416, _6416("PrintQueue", r"SWD\PRINTENUM\{1}")
    )
    assert "not removable storage" in m.map("Security", 6416, _6416("USB", r"USB\ROOT_HUB30\4&1&0"))
    by_system = _6416("DiskDrive", r"USBSTOR\Disk&Ven_A&Prod_B&Rev_1\AA11&0")
    by_system.update(SubjectUserName="PC-01$", SubjectUserSid="S-1-5-18")
    assert m.map("Security", 6416, by_system)["user"] is None  # the machine, not a person


def _1006(bus: int, capacity: int, partitions: int, **extra) -> dict:
    return {
        "BusType": bus,
        "Manufacturer": "SanDisk",
        "Model": "Cruzer Blade",
        "SerialNumber": "20053870810FBE91",
        "ParentId": r"USB\VID_0781&PID_5567\4C530001230923114365",
        "Capacity": capacity,
        "PartitionCount": partitions,
        "IsSystem": False,
        "IsBoot": False,
        **extra,
    }


def test_partition_diagnostic_usb_connect_disconnect_and_internal_disks():
    m = WindowsEvents()
    on = m.map("Microsoft-Windows-Partition/Diagnostic", 1006, _1006(7, 15631122432, 1))
    off = m.map("Microsoft-Windows-Partition/Diagnostic", 1006, _1006(7, 0, 0))
    assert (on["kind"], on["device_id"]) == ("usb_connect", "4C530001230923114365")
    assert (off["kind"], off["device_id"]) == ("usb_disconnect", "4C530001230923114365")
    sata = m.map("Microsoft-Windows-Partition/Diagnostic", 1006, _1006(11, 512110190592, 3))
    nvme = m.map("Microsoft-Windows-Partition/Diagnostic", 1006, _1006(17, 512110190592, 3))
    boot = m.map("Microsoft-Windows-Partition/Diagnostic", 1006, _1006(7, 1, 1, IsBoot=True))
    assert "internal disk" in sata and "internal disk" in nvme and "boot" in boot


def _umdf(event_id: int, minor: int | None, instance: str, lifetime: str = "{L1}") -> dict:
    element = {"#attributes": {"lifetime": lifetime, "instance": instance}}
    if minor is not None:
        element["Request"] = {"#attributes": {"major": 27, "minor": minor}}
    name = "UMDFHostDeviceArrivalBegin" if event_id == 2003 else "UMDFHostDeviceRequest"
    return windows.event_fields({"UserData": {name: element}})


def test_driver_frameworks_arrival_and_removal_paired():
    channel = "Microsoft-Windows-DriverFrameworks-UserMode/Operational"
    inst = (
        r"WPDBUSENUMROOT\UMB\2&37C186B&0&STORAGE#VOLUME#_??_USBSTOR#DISK&VEN_KINGSTON&PROD_DT"
        r"&REV_PMAP#5B6C14A2B7B5&0#{53F56307-B6BF-11D0-94F2-00A0C91EFB8B}"
    )
    m = WindowsEvents()
    arrival = m.map(channel, 2003, _umdf(2003, None, inst))
    assert (arrival["kind"], arrival["device_id"]) == ("usb_connect", "5B6C14A2B7B5")
    received = m.map(channel, 2100, _umdf(2100, 23, inst))
    completed = m.map(channel, 2102, _umdf(2102, 23, inst))
    assert (received["kind"], received["device_id"]) == ("usb_disconnect", "5B6C14A2B7B5")
    assert completed.startswith("completion of a removal request")
    assert "not a removal" in m.map(channel, 2100, _umdf(2100, 7, inst))
    assert "not of USB storage" in m.map(channel, 2003, _umdf(2003, None, r"SWD\MMDEVAPI\{0.0.1}"))


def test_non_interactive_logons_kept_as_other_on_request():
    fields = {"LogonType": 3, "TargetUserName": "svc", "TargetDomainName": "SHOP"}
    assert "not an interactive logon" in WindowsEvents().map("Security", 4624, fields)
    kept = WindowsEvents(all_logons=True).map("Security", 4624, fields)
    assert kept["kind"] == "other" and "type 3" in kept["detail"]


def test_windows_doctests():
    assert doctest.testmod(windows).failed == 0


def test_unreadable_chunks_are_reported_and_the_rest_read(imported):
    result, _, case = imported
    # sysmon.evtx: chunk 9 is all zeros (preallocated), chunks 10-16 are not chunks
    assert result.empty_chunks == {"sysmon.evtx": 1}
    assert [f for f, _ in result.damaged] == ["sysmon.evtx"] * 7
    assert "chunk number 10" in result.damaged[0][1]
    sysmon = result.counts.filter(pl.col("file") == "sysmon.evtx")
    assert int(sysmon["read"].sum()) == 358  # every record before the damage
    log = json.loads((case / "import-log.jsonl").read_text("utf-8").splitlines()[0])
    assert len(log["unreadable_parts"]) == 7 and log["empty_chunks"] == {"sysmon.evtx": 1}
    assert "sysmon.evtx: unreadable part" in result.summary()


def test_window_manager_and_font_driver_sessions_are_not_people():
    for sid, name in (("S-1-5-90-0-1", "DWM-1"), ("S-1-5-96-0-1", "UMFD-1")):
        fields = {"LogonType": 2, "TargetUserSid": sid, "TargetUserName": name}
        assert "not a person" in WindowsEvents().map("Security", 4624, fields)
        assert "not a person" in WindowsEvents().map("Security", 4634, fields)
