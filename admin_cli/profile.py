"""`profile check`: validate the agency profile and list what is still to be filled in."""
from __future__ import annotations

import sys

from services.profile import ProfileError, load_profile


def add_parser(sub) -> None:
    profile = sub.add_parser("profile", help="the agency profile (TOML)")
    sp = profile.add_subparsers(dest="action", required=True)
    check = sp.add_parser("check", help="validate the profile and list the facts still to be filled in")
    check.add_argument("path", nargs="?", help="a profile file (default: AGENCY_PROFILE)")


def run(args, settings) -> int:
    path = args.path or settings.agency_profile
    try:
        profile = load_profile(path)
    except ProfileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    missing = profile.missing_facts()
    print(f"{path}: valid — {profile.agency.name}")
    if not missing:
        print("every fact is filled in")
        return 0
    print(f"{len(missing)} facts still to be filled in (marked ЗАПОЛНИТЬ; never shown to citizens):")
    for key in missing:
        print(f"  - {key}")
    return 1
