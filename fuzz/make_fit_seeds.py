#!/usr/bin/env python3
"""Writes the FIT seeds in fuzz/corpus/fit/ (and copies them to fuzz/corpus/any/).

The tracks crate has no binary FIT fixtures: its tests build FIT files with a small encoder
(crates/duurloop-tracks/tests/tracks/fit_encoder.rs). This is the same encoder in Python, so the
seeds can be regenerated without a Rust build: `python3 fuzz/make_fit_seeds.py`. The output is
deterministic; the seeds are committed.
"""

import os
import struct

FIT_EPOCH_UNIX = 631_065_600
START = 1_709_971_200  # 2024-03-09T08:00:00Z
RECORD, EVENT, FILE_ID = 20, 21, 0
ENUM, UINT8, UINT16, SINT32, UINT32, UINT32Z = 0x00, 0x02, 0x84, 0x85, 0x86, 0x8C


def crc16(data: bytes) -> int:
    """CRC-16/ARC, as in the FIT SDK."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def semicircles(degrees: float) -> int:
    return round(degrees * 2_147_483_648.0 / 180.0)


class FitWriter:
    def __init__(self, big_endian=False):
        self.e = ">" if big_endian else "<"
        self.big_endian = big_endian
        self.records = bytearray()

    def define(self, local, global_, fields, developer=()):
        self.records.append((0x60 if developer else 0x40) | local)
        self.records += bytes([0, int(self.big_endian)])
        self.records += struct.pack(self.e + "H", global_)
        self.records.append(len(fields))
        for number, size, base in fields:
            self.records += bytes([number, size, base])
        if developer:
            self.records.append(len(developer))
            for number, size, index in developer:
                self.records += bytes([number, size, index])

    def data(self, local, values):
        self.records.append(local)
        self.records += values

    def compressed(self, local, unix_s, values):
        self.records.append(0x80 | (local << 5) | ((unix_s - FIT_EPOCH_UNIX) & 0x1F))
        self.records += values

    def file_id(self, unix_s):
        self.define(0, FILE_ID, [(0, 1, ENUM), (1, 2, UINT16), (2, 2, UINT16), (3, 4, UINT32Z), (4, 4, UINT32)])
        self.data(0, struct.pack(self.e + "BHHII", 4, 1, 3869, 3_456_789_012, unix_s - FIT_EPOCH_UNIX))

    def start_event(self, local, unix_s):
        self.define(local, EVENT, [(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)])
        self.data(local, struct.pack(self.e + "IBB", unix_s - FIT_EPOCH_UNIX, 0, 0))

    def define_records(self, local):
        fields = [(253, 4, UINT32), (0, 4, SINT32), (1, 4, SINT32), (2, 2, UINT16), (3, 1, UINT8), (5, 4, UINT32)]
        self.define(local, RECORD, fields)

    def record(self, local, unix_s, position, altitude_m, hr, distance_m):
        lat, lon = (semicircles(position[0]), semicircles(position[1])) if position else (0x7FFFFFFF, 0x7FFFFFFF)
        altitude = 0xFFFF if altitude_m is None else round((altitude_m + 500.0) * 5.0)
        values = struct.pack(
            self.e + "IiiHBI",
            unix_s - FIT_EPOCH_UNIX,
            lat,
            lon,
            altitude,
            0xFF if hr is None else hr,
            round(distance_m * 100),
        )
        self.data(local, values)

    def finish(self, header_len=14):
        header = bytes([header_len, 0x20]) + struct.pack("<HI", 2195, len(self.records)) + b".FIT"
        if header_len == 14:
            header += struct.pack("<H", crc16(header))
        body = header + bytes(self.records)
        return body + struct.pack("<H", crc16(body))


def garmin_run_samples():
    """The run of the Garmin GPX fixture: a record before the GPS fix, then six points."""
    samples = [(START - 3, None, None, 95, 0.0)]
    for k, ele in enumerate([3.0, 3.4, 4.6, 5.0, 4.2, 6.0]):
        samples.append((START + 5 * k, (52.09 + 0.0001 * k, 5.12), ele, 120 + 10 * k, 11.12 * k))
    return samples


def activity(samples, big_endian=False, header_len=14):
    fit = FitWriter(big_endian)
    fit.file_id(samples[0][0])
    fit.start_event(1, samples[0][0])
    fit.define_records(2)
    for sample in samples:
        fit.record(2, *sample)
    return fit.finish(header_len)


def compressed_and_developer():
    """Compressed timestamps, enhanced altitude and a developer field (as in the crate's tests)."""
    fit = FitWriter()
    fit.file_id(START)
    fields = [(0, 4, SINT32), (1, 4, SINT32), (78, 4, UINT32), (3, 1, UINT8)]
    fit.define(1, RECORD, fields, developer=[(0, 2, 0)])
    fit.define_records(2)
    fit.record(2, START, (52.0, 5.0), 1.0, 100, 0.0)
    for k in range(1, 41):
        values = struct.pack("<iiIB", semicircles(52.0 + 0.0001 * k), semicircles(5.0), round((1.0 + k * 0.5 + 500.0) * 5.0), 100 + k)
        fit.compressed(1, START + k, values + b"\xab\xcd")
    return fit.finish()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    samples = garmin_run_samples()
    seeds = {
        "garmin_run_le.fit": activity(samples),
        "garmin_run_be.fit": activity(samples, big_endian=True),
        "garmin_run_12_byte_header.fit": activity(samples, header_len=12),
        "compressed_timestamps_developer_fields.fit": compressed_and_developer(),
        "chained.fit": activity(samples[:4]) + activity(samples[4:]),
    }
    for directory in ("fit", "any"):
        os.makedirs(os.path.join(here, "corpus", directory), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(here, "corpus", directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
