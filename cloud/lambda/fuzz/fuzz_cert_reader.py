"""Coverage-guided fuzzing (atheris, libFuzzer) of the JITR Lambda's certificate reader.

The reader takes the device serial from the certificate AWS IoT hands the Lambda, which a device chose: untrusted
input. Whatever the bytes, `_serial_from_pem` must return None or a serial that matches SERIAL_PATTERN and never
raise, and `_common_name` must return None, a str, or raise ValueError: any other exception, a hang or a memory
blow-up is a crash.

    python fuzz_cert_reader.py [libFuzzer flags] CORPUS_DIR [SEED_DIR]   (scripts/fuzz.sh runs it)
"""

import base64
import os
import sys

import atheris

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import boto3  # noqa: E402,F401  (imported uninstrumented: only the Lambda's own code is traced)

with atheris.instrument_imports(include=["keyline_jitr"]):
    import keyline_jitr  # noqa: E402


def check_serial(serial):
    if serial is not None and not keyline_jitr.SERIAL_PATTERN.match(serial):
        raise AssertionError("the reader returned %r, which is not a device serial" % serial)


def test_one_input(data):
    if not data:
        return
    mode, body = data[0] % 3, data[1:]
    if mode == 0:
        # Raw DER straight into the TLV walker.
        try:
            common_name = keyline_jitr._common_name(body)
        except ValueError:
            return
        if common_name is not None and not isinstance(common_name, str):
            raise AssertionError("CN is %r" % type(common_name))
    elif mode == 1:
        # Arbitrary DER wrapped as AWS delivers it: a PEM block.
        pem = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(body).decode()
        check_serial(keyline_jitr._serial_from_pem(pem))
    else:
        # Arbitrary text as the PEM field itself.
        check_serial(keyline_jitr._serial_from_pem(body.decode("utf-8", "replace")))


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
