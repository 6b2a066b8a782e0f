# A bar per row of a tab-separated data file: label, value, colour (1 ours, 2 the seed, 3 a
# baseline). Called by the parts as:
#   gnuplot -e "datafile='...'; outfile='...'; plottitle='...'; ylabel_text='...'" bench/plots/bars.gp
set terminal pngcairo size 1000,500 font "sans,10"
set output outfile
set datafile separator "\t"
set title plottitle
set ylabel ylabel_text
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0   # room above the bars for their values
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set xtics rotate by 20 right noenhanced
set key off
set lmargin 16   # room for the first label, which leans left
set bmargin 7
set linetype 1 lc rgb "#3b75af"
set linetype 2 lc rgb "#d9822b"
set linetype 3 lc rgb "#9a9a9a"
plot datafile using 0:2:3:xticlabels(1) with boxes lc variable, \
     '' using 0:2:(sprintf("%.1f", $2)) with labels offset 0, 0.7 noenhanced
