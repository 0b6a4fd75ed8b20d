# Schedules: `schedule next` against tests/cron_ref.py (an independent
# minute-by-minute reference in Python with zoneinfo) on many expressions
# and zones, across both daylight-saving changes and leap days; far-apart
# fire times; invalid expressions as config errors; crontab lines and
# systemd units.  Needs no server.
# once: its time goes to the Python reference; test_sched covers the parser under ASan
# cost: 65 (seconds, roughly: tests/run starts the costliest first)
set -eu
. "$FERRY_SOURCE_ROOT/tests/lib.sh"
cd "$SCRATCH"

# ---- schedule next against the reference -----------------------------------
# Windows of 60 hours around every DST change of 2024-2025 in each zone
# (one window in zones without DST), and around Feb 29 2024.
python3 - >cases.txt <<'PY'
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney",
         "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata",
         "Pacific/Chatham", "America/St_Johns", "Africa/Cairo",
         "America/Havana"]
exprs = ["0 3 * * *", "30 2 * * *", "*/20 * * * *", "0 * * * *",
         "5 4 * * sun", "0 0 1,15 * mon", "0 12 13 * 5", "@daily",
         "0 9-17/2 * * 1-5", "0,30 0-3 * * *", "0 0 */2 * 7",
         "59 1 * * *", "0 2 28-31 * fri", "1 0 * jan-dec/1 MON-SUN"]
fmt = "%Y-%m-%dT%H:%M:%SZ"
def transitions(z):
    t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    prev = t.astimezone(z).utcoffset()
    out = []
    while t < datetime(2026, 1, 1, tzinfo=timezone.utc):
        t += timedelta(hours=1)
        off = t.astimezone(z).utcoffset()
        if off != prev:
            out.append(t)
        prev = off
    return out or [datetime(2024, 6, 10, 7, 13, tzinfo=timezone.utc)]
for name in zones:
    z = ZoneInfo(name)
    for tr in transitions(z)[:2]:
        a, b = tr - timedelta(hours=30), tr + timedelta(hours=30)
        for e in exprs:
            print(f"{a.strftime(fmt)}|{b.strftime(fmt)}|CRON_TZ={name} {e}")
leap = ["0 0 29 2 *", "30 12 29 2 *", "0 0 29 feb thu", "0 6 28,29 2 *",
        "0 0 1 3 *", "0 0 * * *"]
for name in ["UTC", "Europe/Berlin", "Pacific/Chatham"]:
    for e in leap:
        print(f"2024-02-26T05:17:00Z|2024-03-02T12:00:00Z|CRON_TZ={name} {e}")
# the process's TZ, without CRON_TZ=
for e in exprs[:6]:
    print(f"2024-03-09T12:00:00Z|2024-03-12T00:00:00Z|{e}")
PY
# Without CRON_TZ= both read TZ (Denver changes on 2024-03-10).
TZ=America/Denver python3 "$FERRY_SOURCE_ROOT/tests/cron_ref.py" cases.txt >ref.txt
ncases=$(wc -l <cases.txt)
bad=0 first=""
: >ferry.txt
while IFS='|' read -r from until expr; do
	got=$(TZ=America/Denver "$FERRY" schedule next "$expr" --from "$from" --count 400 |
		awk -v u="$until" '$0 <= u' | tr '\n' ' ' | sed 's/ $//')
	echo "$got" >>ferry.txt
done <cases.txt
paste -d '\n' cases.txt ref.txt ferry.txt | awk 'NR % 3 == 1 { c = $0 } NR % 3 == 2 { r = $0 } NR % 3 == 0 && $0 != r { print c; print "  ref:   " r; print "  ferry: " $0 }' >diff.txt
if [ -s diff.txt ]; then
	notok "schedule next equals the reference on $ncases windows: $(grep -c '^2' diff.txt) differ, first: $(head -n 3 diff.txt | tr '\n' ' ')"
else
	ok "schedule next equals the reference on $ncases windows ($(wc -w <ref.txt) fire times)"
fi
# The windows hold both changes of each zone: make sure they were tested.
for z in Europe/Berlin Australia/Lord_Howe America/Santiago; do
	n=$(grep -c "CRON_TZ=$z " cases.txt)
	[ "$n" -ge 2 ] && ok "windows around $z's changes ($n)" || notok "no $z windows"
done

# Berlin's changes by hand: the skipped 02:30 runs at the jump, the
# repeated one once.
same "skipped hour: 02:30 runs at the jump (03:00 CEST)" \
	"$("$FERRY" schedule next "CRON_TZ=Europe/Berlin 30 2 * * *" --from 2024-03-30T12:00:00Z)" \
	"2024-03-31T01:00:00Z"
same "repeated hour: 02:30 runs once" \
	"$("$FERRY" schedule next "CRON_TZ=Europe/Berlin 30 2 * * *" --from 2024-10-26T12:00:00Z --count 2 | tr '\n' ' ')" \
	"2024-10-27T00:30:00Z 2024-10-28T01:30:00Z "
same "TZ picks the zone without CRON_TZ=" \
	"$(TZ=Europe/Berlin "$FERRY" schedule next "0 3 * * *" --from 2024-07-01T00:00:00Z)" \
	"2024-07-01T01:00:00Z"
same "CRON_TZ= wins over TZ" \
	"$(TZ=Asia/Tokyo "$FERRY" schedule next "CRON_TZ=UTC 0 3 * * *" --from 2024-07-01T00:00:00Z)" \
	"2024-07-01T03:00:00Z"
same "Vixie: both day fields restricted, either matches (Friday or the 13th)" \
	"$("$FERRY" schedule next "0 0 13 * fri" --from 2024-09-01T00:00:00Z --count 4 | tr '\n' ' ')" \
	"2024-09-06T00:00:00Z 2024-09-13T00:00:00Z 2024-09-20T00:00:00Z 2024-09-27T00:00:00Z "
same "7 is Sunday" "$("$FERRY" schedule next "0 0 * * 7" --from 2024-09-01T00:00:00Z)" \
	"2024-09-08T00:00:00Z"
same "from a fire time: the next one" \
	"$("$FERRY" schedule next "0 3 * * *" --from 2024-01-01T03:00:00Z)" "2024-01-02T03:00:00Z"

# ---- far apart: Feb 29 across 2100, against a day-by-day walk -------------
want=$(python3 -c '
from datetime import date, timedelta
d, out = date(2090, 1, 2), []
while len(out) < 6:
    if d.month == 2 and d.day == 29: out.append(d.isoformat() + "T00:00:00Z")
    d += timedelta(days=1)
print(" ".join(out))')
same "Feb 29 schedule years apart (2096, 2104 ...)" \
	"$(TZ=UTC "$FERRY" schedule next "0 0 29 2 *" --from 2090-01-01T00:00:00Z --count 6 | tr '\n' ' ' | sed 's/ $//')" "$want"
want=$(python3 -c '
from datetime import date, timedelta
d, out = date(2001, 1, 1), []
while len(out) < 3:
    if d.month == 2 and d.day == 29 and d.weekday() == 6: out.append(d.isoformat() + "T12:00:00Z")
    d += timedelta(days=1)
print(" ".join(out))')
same "Feb 29 on a Sunday ('*/7' keeps Vixie's AND): 28 years apart" \
	"$(TZ=UTC "$FERRY" schedule next "0 12 29 2 */7" --from 2001-01-01T00:00:00Z --count 3 | tr '\n' ' ' | sed 's/ $//')" "$want"

# ---- bad expressions --------------------------------------------------------
for e in "61 * * * *" "* * * *" "* * * * * *" "0 24 * * *" "0 0 0 * *" \
	 "0 0 * 13 *" "0 0 * * 8" "5-1 * * * *" "*/0 * * * *" "0 0 30 2 *" \
	 "@reboot" "CRON_TZ=Mars/Base 0 3 * * *" "0 0 * * funday" "1,,2 * * * *"; do
	expect_exit "schedule next '$e': exit 2" 2 "$FERRY" schedule next "$e"
	contains "'$e' is named" "$ERR" "bad cron expression '$e'"
done
contains "the field and the range are named" \
	"$("$FERRY" schedule next "61 * * * *" 2>&1)" "minute field '61': 61 is out of range 0-59"
expect_exit "--from in another form: exit 2" 2 "$FERRY" schedule next "@daily" --from "2024-01-01 00:00"
expect_exit "--count 0: exit 2" 2 "$FERRY" schedule next "@daily" --count 0
expect_exit "schedule with no subcommand: exit 2" 2 "$FERRY" schedule
expect_exit "schedule next needs no config" 0 env FERRY_CONFIG=/nonexistent "$FERRY" schedule next "@daily"

printf '[server]\nhost = local\n[backup]\ndir = %s/bk\n[schedule]\nbackup = 0 3 * * *\nverify = 61 4 * * *\n' "$SCRATCH" >badcron.ini
expect_exit "a bad expression in the config: ferry config exits 2" 2 "$FERRY" -c badcron.ini config
contains "config error names file:line and the key" "$ERR" "badcron.ini:7: bad value '61 4 * * *' for verify in [schedule]: minute field '61'"
printf '[server]\nhost = local\n[schedule]\nprune = weekly\n' >badprune.ini
expect_exit "prune takes after-backup or cron" 2 "$FERRY" -c badprune.ini config
contains "prune's choice is named" "$ERR" "badprune.ini:4: bad value 'weekly' for prune in [schedule]"
printf '[server]\nhost = local\n[schedule]\nprune = after-backup\n' >lonely.ini
expect_exit "prune = after-backup without a backup schedule: exit 2" 2 "$FERRY" -c lonely.ini schedule print
contains "names file:line" "$ERR" "lonely.ini:4: prune = after-backup"

# ---- crontab lines ----------------------------------------------------------
mkdir -p "with space"
cat >"with space/f%.ini" <<EOF
[server]
host = local
[backup]
dir = $SCRATCH/bk
[schedule]
backup = 0 3 * * *
prune = after-backup
verify = CRON_TZ=Europe/Berlin 30 4 * * sun
EOF
CONF="$SCRATCH/with space/f%.ini"
expect_exit "schedule print" 0 "$FERRY" -c "$CONF" schedule print
FERRY_ABS=$(readlink -f "$FERRY")
backup_line=$(printf '%s\n' "$OUT" | grep ' backup ' || true)
same "backup line: absolute paths, -c, log, then prune" "$backup_line" \
	"0 3 * * * $FERRY_ABS -c '$SCRATCH/with space/f\\%.ini' backup >>$SCRATCH/bk/ferry.log 2>&1; r=\$?; case \$r in 0|5) $FERRY_ABS -c '$SCRATCH/with space/f\\%.ini' prune >>$SCRATCH/bk/ferry.log 2>&1;; esac; exit \$r"
contains "verify line keeps its zone" "$OUT" "CRON_TZ=Europe/Berlin
30 4 * * sun $FERRY_ABS -c '$SCRATCH/with space/f\\%.ini' verify --latest >>"
# The line runs as cron would run it (sh -c, % unescaped by cron).
cmd=$(printf '%s\n' "$backup_line" | cut -d' ' -f6- | sed 's/\\%/%/g')
sh -c "$cmd" && st=0 || st=$?
same "the printed line runs ferry with the config (no [postgres]: exit 2)" "$st" "2"
contains "cron's output lands in the log" "$(cat "$SCRATCH/bk/ferry.log")" \
	"$SCRATCH/with space/f%.ini: nothing to back up"
# Prune follows a complete or a partial backup (exit 5), not a failed one.
printf '#!/bin/sh\necho "$*" >>"%s/stub.log"\n[ "$3" = backup ] && exit "$STUB_EXIT"\nexit 0\n' "$SCRATCH" >stub-ferry
chmod +x stub-ferry
stubcmd=$(printf '%s\n' "$cmd" | sed "s|$FERRY_ABS|$SCRATCH/stub-ferry|g")
for ex in 0 5 1; do
	rm -f stub.log
	STUB_EXIT=$ex sh -c "$stubcmd" || true
	want=$([ "$ex" = 1 ] && echo 1 || echo 2)
	same "the cron line after a backup's exit $ex: $([ "$want" = 2 ] && echo prunes || echo no prune)" \
		"$(wc -l <stub.log | tr -d ' ')" "$want"
done
expect_exit "schedule print with nothing scheduled: exit 2" 2 "$FERRY" -c badprune.ini schedule print || true

# install --cron, against a stand-in crontab(1) on PATH
mkdir -p fakebin
cat >fakebin/crontab <<EOF
#!/bin/sh
case "\$1" in
-l) [ -f "$SCRATCH/crontab.txt" ] || { echo "no crontab for \$USER" >&2; exit 1; }; cat "$SCRATCH/crontab.txt" ;;
-) cat >"$SCRATCH/crontab.txt" ;;
*) exit 2 ;;
esac
EOF
chmod +x fakebin/crontab
printf 'MAILTO=ops@dev.example.invalid\n17 * * * * /usr/bin/true\n' >crontab.txt
expect_exit "install --cron" 0 env PATH="$SCRATCH/fakebin:$PATH" "$FERRY" -c "$CONF" schedule install --cron
first=$(cat crontab.txt)
expect_exit "install --cron again" 0 env PATH="$SCRATCH/fakebin:$PATH" "$FERRY" -c "$CONF" schedule install --cron
same "installing twice changes nothing" "$(cat crontab.txt)" "$first"
contains "other entries are kept" "$first" "17 * * * * /usr/bin/true"
same "the job appears once" "$(grep -c ' backup ' crontab.txt)" "1"
contains "crontab holds print's lines" "$first" "$backup_line"
rm -f crontab.txt
expect_exit "install --cron into no crontab" 0 env PATH="$SCRATCH/fakebin:$PATH" "$FERRY" -c "$CONF" schedule install --cron
same "a new crontab has the block only" "$(grep -vc '^#' crontab.txt)" "3"
expect_exit "install needs --cron or --systemd" 2 "$FERRY" -c "$CONF" schedule install

# install --systemd
expect_exit "install --systemd --dir" 0 "$FERRY" -c "$CONF" schedule install --systemd --dir "$SCRATCH/units"
for u in ferry-backup.service ferry-backup.timer ferry-verify.service ferry-verify.timer; do
	[ -f "units/$u" ] && ok "wrote $u" || notok "no units/$u"
done
contains "service runs ferry with the config" "$(cat units/ferry-backup.service)" \
	"ExecStart=$FERRY_ABS -c \"$SCRATCH/with space/f%%.ini\" backup
SuccessExitStatus=5
ExecStart=$FERRY_ABS -c \"$SCRATCH/with space/f%%.ini\" prune"
contains "unit text escapes % (systemd specifiers)" "$(cat units/ferry-backup.service)" \
	"Description=ferry backup ($SCRATCH/with space/f%%.ini)"
contains "timer: OnCalendar" "$(cat units/ferry-backup.timer)" "OnCalendar=*-*-* 03:00:00"
contains "timer: zone kept" "$(cat units/ferry-verify.timer)" "OnCalendar=Sun *-*-* 04:30:00 Europe/Berlin"
contains "timer: a missed run runs at boot" "$(cat units/ferry-backup.timer)" "Persistent=true"
# systemd's own reading of the OnCalendar= lines gives ferry's fire times
if command -v systemd-analyze >/dev/null 2>&1; then
	for e in "0 3 * * *" "*/20 8-10 * * 1-5" "0 0 13 * fri" "15 6 1,15 jan,jul *" "0 12 * * 0"; do
		printf '[server]\nhost = local\n[backup]\ndir = %s/bk\n[schedule]\nbackup = %s\n' "$SCRATCH" "$e" >sd.ini
		rm -rf sd && "$FERRY" -c sd.ini schedule install --systemd --dir "$SCRATCH/sd" >/dev/null
		sysd=$(grep '^OnCalendar=' sd/ferry-backup.timer | cut -d= -f2- | while read -r spec; do
			TZ=UTC systemd-analyze calendar --iterations=6 "$spec" | sed -n 's/.*\(Next elapse\|Iter\. #[0-9]*\): ... \(.*\) UTC$/\2/p'
		done | sort -u | head -n 6 | sed 's/ /T/; s/$/Z/' | tr '\n' ' ')
		mine=$(TZ=UTC "$FERRY" schedule next "$e" --count 6 | tr '\n' ' ')
		same "systemd reads '$e' as ferry does" "$sysd" "$mine"
	done
else
	skip "systemd-analyze: not installed"
fi
