#!/usr/bin/env python3
"""E-mail capture benchmark: import throughput, IMAP sync throughput and hostile-mail robustness.

    python3 bench/mail.py                          # 10,000 messages; SQLite and PostgreSQL
    MESSAGES=2000 MUTANTS=1000 IMAP=500 python3 bench/mail.py

1. A realistic mbox of MESSAGES messages is written: 2,000 conversations of customers with
   sales reps, quoted replies, HTML-only messages and small PDF attachments. It is imported with
   `commlog import mbox` into a fresh SQLite database and into a fresh PostgreSQL one, and the
   messages per second are reported.
2. IMAP messages are appended to a Dovecot on loopback and synced with `commlog mail sync`.
3. The mail corpus's generator writes MUTANTS hostile mutants of real messages, which are imported
   with `commlog import eml`. Every one must end up captured or quarantined, and nothing may
   crash.

Writes bench/MAIL.md. Python 3.11 standard library, psql and Dovecot.
"""

import imaplib
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

import harness
from harness import BIN, OUT, log

MESSAGES = int(os.environ.get("MESSAGES", "10000"))
MUTANTS = int(os.environ.get("MUTANTS", "10000"))
IMAP = int(os.environ.get("IMAP", "2000"))
EMAIL = "admin@acme.bench.example"
PASSWORD = "Bench-Passw0rd-2026"
RESULTS = os.path.join(harness.REPO, "bench", "MAIL.md")
CORPUS = os.environ.get("COMMLOG_CORPORA", os.path.join(os.path.dirname(harness.REPO), "shared", "corpora"))
PDF = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcjw8L1Jvb3QgMSAwIFI+PgolJUVPRgo="


def message(n, rng):
    """The n-th message: conversations of five, alternating customer and company."""
    conv, step = divmod(n, 5)
    customer = f"customer{conv % 700}@client{conv % 90}.example"
    rep = f"rep{conv % 25}@acme.bench.example"
    inbound = step % 2 == 0
    sender, recipient = (customer, rep) if inbound else (rep, customer)
    subject = ("Re: " if step else "") + f"Order {conv}: delivery and invoice questions"
    lines = [f"Message-ID: <m{n}@bench.example>", f"From: {sender}", f"To: {recipient}", f"Subject: {subject}",
             f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(1_767_000_000 + n * 600))}"]
    if step:
        lines.append(f"In-Reply-To: <m{n - 1}@bench.example>")
        lines.append("References: " + " ".join(f"<m{k}@bench.example>" for k in range(n - step, n)))
    text = " ".join(rng.choice(["We", "need", "the", "delivery", "by", "Friday", "please", "send", "invoice",
                                "thanks", "pallets", "contract", "price", "call", "me", "tomorrow"]) for _ in range(60))
    quote = "\n".join(f"> {text[i:i + 70]}" for i in range(0, 280, 70))
    body = f"{text}\n\nOn earlier, someone wrote:\n{quote}\n-- \nBest regards\n"
    kind = n % 10
    lines.append("MIME-Version: 1.0")
    if kind == 0:
        lines += ['Content-Type: multipart/mixed; boundary="b"', "", "--b", "Content-Type: text/plain; charset=utf-8", "",
                  body, "--b", 'Content-Type: application/pdf; name="order.pdf"', "Content-Transfer-Encoding: base64", "",
                  PDF, "--b--", ""]
    elif kind == 1:
        lines += ["Content-Type: text/html; charset=utf-8", "", f"<html><body><p>{text}</p><blockquote>{quote}</blockquote></body></html>", ""]
    else:
        lines += ["Content-Type: text/plain; charset=utf-8", "", body]
    return "\n".join(lines)


def write_mbox(path, count):
    rng = random.Random(1234)
    with open(path, "w") as f:
        for n in range(count):
            m = message(n, rng).replace("\nFrom ", "\n>From ")
            f.write(f"From sender@bench.example Sat Jan  1 00:00:00 2026\n{m}\n\n")


def company(env):
    out = subprocess.run([BIN, "company", "create", "--name", "Acme", "--admin-email", EMAIL, "--admin-password", PASSWORD],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])["company_id"]


def environment(engine, data_dir):
    env = harness.server_env("commlog_email_bench", data_dir)
    if engine == "sqlite":
        env["COMMLOG_DATABASE_URL"] = f"sqlite://{data_dir}/commlog.db"
        subprocess.run([BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        return env, company(env)
    made = harness.fresh_database("commlog_email_bench", env, "Acme", EMAIL, PASSWORD)
    return env, made["company_id"]


def timed(cmd, env):
    t = time.monotonic()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return time.monotonic() - t, json.loads(out.stdout.strip().splitlines()[-1])


def dovecot(tmp):
    """A loopback Dovecot with one user; returns (port, stop)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(tmp, sub), exist_ok=True)
    with open(os.path.join(tmp, "dovecot.conf"), "w") as f:
        f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {tmp}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    with open(os.path.join(tmp, "users"), "w") as f:
        f.write(f"bench@test.local:{{PLAIN}}secret:65534:65534::{tmp}/mail/bench::\n")
    subprocess.run(["chown", "65534:65534", os.path.join(tmp, "mail")], check=True)
    subprocess.run(["dovecot", "-c", os.path.join(tmp, "dovecot.conf")], check=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    def stop():
        with open(os.path.join(tmp, "run", "master.pid")) as f:
            subprocess.run(["kill", f.read().strip()], check=False)
    return port, stop


def imap_sync(env, company_id, tmp):
    port, stop = dovecot(tmp)
    try:
        rng = random.Random(99)
        conn = imaplib.IMAP4("127.0.0.1", port)
        conn.login("bench@test.local", "secret")
        for n in range(IMAP):
            conn.append("INBOX", None, None, message(1_000_000 + n, rng).replace("\n", "\r\n").encode())
        conn.logout()
        server = harness.Server(env, 18095, os.path.join(OUT, "email-imap-server.log"))
        server.start()
        try:
            server.wait_for("/readyz")
            token = server.api.login(EMAIL, PASSWORD)
            status, _, account = server.api.request("POST", "/api/mail-accounts/", {
                "host": "127.0.0.1", "port": port, "security": "plain", "username": "bench@test.local",
                "password": "secret", "folders": ["INBOX"], "is_active": False}, headers={"Authorization": f"Bearer {token}"})
            if status != 201:
                raise RuntimeError(f"mail account -> {status} {account}")
        finally:
            server.stop()
        return timed([BIN, "mail", "sync", "--company-id", company_id, "--account-id", account["id"]], env)
    finally:
        stop()


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="commlog-email-bench-")
    os.chmod(tmp, 0o755)  # Dovecot's mail user (nobody) must reach its maildir inside
    rows = []
    try:
        mbox = os.path.join(tmp, "bench.mbox")
        write_mbox(mbox, MESSAGES)
        size_mb = os.path.getsize(mbox) / 1e6
        log(f"{MESSAGES} messages, {size_mb:.1f} MB")
        for engine in ("sqlite", "postgres"):
            data = os.path.join(tmp, engine)
            os.makedirs(data)
            env, company_id = environment(engine, data)
            took, report = timed([BIN, "import", "mbox", mbox, "--company-id", company_id], env)
            again, report2 = timed([BIN, "import", "mbox", mbox, "--company-id", company_id], env)
            log(f"{engine}: {report['imported']} imported in {took:.1f} s; re-import {report2['duplicates']} duplicates in {again:.1f} s")
            row = {"engine": engine, "imported": report["imported"], "quarantined": report["quarantined"], "seconds": took,
                   "rate": report["imported"] / took, "reimport_rate": report2["duplicates"] / again}
            if IMAP:
                sync_took, sync = imap_sync(env, company_id, os.path.join(tmp, f"dovecot-{engine}"))
                row.update(imap_fetched=sync["fetched"], imap_imported=sync["imported"], imap_rate=sync["fetched"] / sync_took)
                log(f"{engine}: IMAP {sync['fetched']} fetched, {sync['imported']} imported in {sync_took:.1f} s")
            rows.append(row)
            if engine == "postgres":
                harness.drop_database("commlog_email_bench")
        mutant_line = "not run (MUTANTS=0)"
        if MUTANTS:
            mutants = os.path.join(tmp, "mutants")
            mail_dir = os.path.join(CORPUS, "mail")
            subprocess.run(["python3", os.path.join(mail_dir, "generated", "gen.py"), mutants, str(MUTANTS), "."],
                           cwd=mail_dir, check=True, capture_output=True)
            files = sum(len(f) for _, _, f in os.walk(mutants))
            data = os.path.join(tmp, "mutants-db")
            os.makedirs(data)
            env, company_id = environment("sqlite", data)
            took, report = timed([BIN, "import", "eml", mutants, "--company-id", company_id], env)
            total = report["imported"] + report["duplicates"] + report["quarantined"] + report["skipped"]
            mutant_line = (f"{files} mutant files: {report['imported']} imported, {report['duplicates']} duplicates, "
                           f"{report['quarantined']} quarantined, {report['skipped']} skipped ({total} accounted for) "
                           f"in {took:.1f} s ({files / took:.0f} files/s); no crash")
            log(mutant_line)
            if total != files:
                raise SystemExit(f"{files - total} mutants unaccounted for")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ["# E-mail capture benchmark", "",
             f"`python3 bench/mail.py` (MESSAGES={MESSAGES}, MUTANTS={MUTANTS}, IMAP={IMAP}), {time.strftime('%Y-%m-%d')}, "
             "on this 2-core machine. Every message goes through the whole pipeline: parsing, deduplication, threading, "
             "matching, the log, its attachments and the original kept as `message.eml`.", "",
             "| engine | mbox import | msgs/s | re-import (all duplicates) msgs/s | IMAP sync from Dovecot msgs/s |",
             "|---|---|---|---|---|"]
    for r in rows:
        imap = f"{r.get('imap_rate', 0):.0f} ({r.get('imap_imported', 0)} of {r.get('imap_fetched', 0)})" if IMAP else "—"
        lines.append(f"| {r['engine']} | {r['imported']} in {r['seconds']:.1f} s | {r['rate']:.0f} | {r['reimport_rate']:.0f} | {imap} |")
    lines += ["", f"Hostile mail: {mutant_line}.", ""]
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
