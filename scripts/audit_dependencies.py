"""Known vulnerabilities in a lock file, by pip-audit (PyPI's vulnerability data), said loudly either way.

    python scripts/audit_dependencies.py requirements.lock

Exit 1 when a pinned package has a known vulnerability. When the vulnerability database cannot be asked
(no network, or an index that does not serve PyPI's per-version JSON API), the packages it could not audit
are listed under "NOT AUDITED" and the exit is 0, so that CI on a closed network still runs the tests but
says plainly that nothing was audited; with REQUIRE_AUDIT=1 that is a failure too.
"""

import json
import os
import subprocess
import sys


def main(lock: str) -> int:
    command = [
        sys.executable, "-m", "pip_audit", "--requirement", lock, "--no-deps", "--disable-pip",
        "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stderr.strip(), file=sys.stderr)
        return not_audited(lock, ["every package (pip-audit could not run)"])
    return judge(lock, report)


def judge(lock: str, report: dict) -> int:
    """The exit status for pip-audit's JSON report, after printing what it found."""
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    audited = len(dependencies) - len(skipped)
    found = f"{audited} of {len(dependencies)} packages audited, {len(vulnerable)} vulnerable"
    print(f"pip-audit over {lock}: {found}")
    if vulnerable:
        return 1
    if skipped:
        return not_audited(lock, [f"{dep['name']}: {dep['skip_reason']}" for dep in skipped])
    return 0


def not_audited(lock: str, what: list[str]) -> int:
    print(f"NOT AUDITED ({lock}): the vulnerability database did not answer for {len(what)} package(s):")
    for line in what[:10]:
        print(f"  {line}")
    if len(what) > 10:
        print(f"  ... and {len(what) - 10} more")
    if os.environ.get("REQUIRE_AUDIT") == "1":
        print("REQUIRE_AUDIT=1: an audit that could not be made is a failure.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"))
