"""What a session's user agent says about its device, read by ``ua-parser`` (uap-core's
rules, with the native ``ua-parser-rs`` matcher: a few microseconds a parse, cached).

Two readings: a label for people ("Chrome 131 on Windows") and a key for the sign-in
notices (``models.accounts.sign_ins``). The key is the browser, system and device families
without their versions, so that a browser updating itself every month is not a new device;
an agent the rules cannot read at all (a custom client's ``MyApp/3.1``) is its own key,
raw, since nothing less would tell two of them apart.
"""

from __future__ import annotations

import functools

from ua_parser import parse


@functools.lru_cache(maxsize=1024)
def _read(user_agent: str) -> tuple[str, str, str, str]:
    """(browser with its major version, browser family, system family, device family)."""
    result = parse(user_agent)
    browser = family = system = device = ""
    if result.user_agent is not None:
        family = result.user_agent.family
        major = result.user_agent.major
        browser = f"{family} {major}" if major else family
    if result.os is not None:
        system = result.os.family
    if result.device is not None:
        device = result.device.family
    return browser, family, system, device


def device_label(user_agent: str) -> str:
    """A person's name for the device: "Chrome 131 on Windows", "Mobile Safari 17 on iOS
    (iPhone)"; the agent itself when the rules cannot read it; "Unknown device" for none."""
    browser, _, system, device = _read(user_agent)
    if device and device not in system:
        system = f"{system} ({device})" if system else device
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    return user_agent[:80] or "Unknown device"


def device_key(user_agent: str) -> str:
    """What stays the same for one device across browser and system updates."""
    _, family, system, device = _read(user_agent)
    if family or system or device:
        return f"parsed:{family}|{system}|{device}"
    return f"raw:{user_agent}"


def warm_up() -> None:
    """Build the matcher (a fifth of a second, once per process) before the first sign-in
    needs it."""
    _read("Mozilla/5.0")
