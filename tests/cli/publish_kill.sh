#!/usr/bin/env bash
# geoflux publish killed with SIGKILL at several points of a run, then run
# again: the store and the SITE are those of an uninterrupted run (the run
# is one SQLite transaction, the SITE is rebuilt from the store and swapped
# in, and a run finding the SITE older than the store rebuilds it). Nothing
# of the killed run is left beside the SITE.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
mkdir -p $OUT/src/{bruz,corps-nuds,epci}
cp $S/bal/bal_35047_v1.3.csv $OUT/src/bruz/bal.csv
cp $S/equipements/equipements-35047.csv $OUT/src/bruz/equipements.csv # geocoded against the run's addresses
cp $S/bal/bal_simple_v1.3.csv $OUT/src/corps-nuds/bal.csv
{ sed '1s/^\xEF\xBB\xBF//; s/;;;\r\?$//' $S/bal/test-valid.csv; tail -n +2 $S/bal/adresses-54084.csv; } > $OUT/src/epci/epci.csv
export SOURCE_DATE_EPOCH=1764547200
pub() { exec "$GF" publish $OUT/src --store $1/store.db -o $1/site --at 2026-12-01 -j 2 -q; }
state() {  # the store's content and the SITE's bytes
  sqlite3 $1/store.db "select commune, revision, run, producer, received_at, file, file_hash, row_hash, status, rows,
    valid_rows, certified, reasons, errors, warnings, repairs, added, removed, modified, moved, hex(data), hex(rejects),
    hex(diff) from revisions order by 1, 2; select * from published order by 1; select * from runs order by 1;
    select * from equip_submissions order by 1; select * from equip_rows order by 1, 2;
    select * from equip_rejects order by 1, 2; select * from equip_codes order by 1, 2, 3;
    select * from equipments order by 1" | md5sum
  (cd $1/site && find . -type f | sort | xargs md5sum)
}
mkdir -p $OUT/ref
t0=$(date +%s%N); (pub $OUT/ref); rc=$?; t1=$(date +%s%N)
ok "[ $rc -eq 0 ]" "the uninterrupted run succeeds ($rc)"
state $OUT/ref > $OUT/ref.state
ms=$(( (t1 - t0) / 1000000 ))
echo "uninterrupted run: $ms ms"
# kill points spread over the run's duration, plus one at the very start
for pct in 0 5 15 30 50 70 85 95; do
  d=$OUT/k$pct; mkdir -p $d
  pub $d & pid=$!
  sleep $(awk -v m=$ms -v p=$pct 'BEGIN{printf "%.3f", m * p / 100000}')
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  ls -a $d > $d/after-kill.ls
  (pub $d); rc=$?
  ok "[ $rc -eq 0 ]" "killed at $pct %: the re-run succeeds ($rc)"
  state $d > $d.state
  ok "cmp -s $OUT/ref.state $d.state" "killed at $pct % ($(tr '\n' ' ' < $d/after-kill.ls)), then re-run: the same store and SITE as the uninterrupted run"
  ok "[ -z \"\$(ls -a $d | grep geoflux-)\" ]" "killed at $pct %: nothing left beside the SITE after the re-run"
done
# the steps that matter, exactly: before the commit, after it, with the new
# SITE built, right after the exchange; on a first run and on a second one
# that publishes a change over an existing SITE
sed '2d' $OUT/src/corps-nuds/bal.csv > $OUT/corps2.csv
for run in first second; do
  for point in stored committed built exchanged; do
    d=$OUT/$run-$point; mkdir -p $d
    if [ $run = second ]; then
      cp $S/bal/bal_simple_v1.3.csv $OUT/src/corps-nuds/bal.csv
      (pub $d)
      cp $OUT/corps2.csv $OUT/src/corps-nuds/bal.csv
    fi
    (GEOFLUX_TEST_KILL=$point pub $d); krc=$?
    (pub $d); rc=$?
    ok "[ $krc -eq 137 ] && [ $rc -eq 0 ]" "$run run killed when $point: killed ($krc), re-run succeeds ($rc)"
    state $d > $d.state
    if [ $run = first ]; then
      ok "cmp -s $OUT/ref.state $d.state" "$run run killed when $point, then re-run: the uninterrupted run's store and SITE"
    else
      mkdir -p $OUT/ref2; [ -f $OUT/ref2.state ] || { cp $S/bal/bal_simple_v1.3.csv $OUT/src/corps-nuds/bal.csv; (pub $OUT/ref2);
        cp $OUT/corps2.csv $OUT/src/corps-nuds/bal.csv; (pub $OUT/ref2); state $OUT/ref2 > $OUT/ref2.state; }
      ok "cmp -s $OUT/ref2.state $d.state" "$run run killed when $point, then re-run: the uninterrupted runs' store and SITE"
    fi
    ok "[ -z \"\$(ls -a $d | grep geoflux-)\" ]" "$run run killed when $point: nothing left beside the SITE after the re-run"
  done
done
cp $S/bal/bal_simple_v1.3.csv $OUT/src/corps-nuds/bal.csv
gf_test_end
