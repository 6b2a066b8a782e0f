// Draws eventloop-guardian's HTML report from the JSON in #report-data: a flame graph of the
// blocking stacks, a timeline of the sleeps per thread, and the tables by syscall and by thread.
// Written small on purpose (no library, nothing fetched). Every name in the data comes from the
// guarded program: it reaches the page only through textContent and attribute values, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const SVG = 'http://www.w3.org/2000/svg';
  const ROW = 18;
  /** Boxes narrower than this are not drawn: they could not be seen, and a large graph would have thousands. */
  const MIN_BOX_PX = 0.5;
  const KINDS = {
    root: { label: 'all sleeps', hue: 0, sat: 0, light: 82 },
    thread: { label: 'thread', hue: 210, sat: 12, light: 76 },
    syscall: { label: 'syscall', hue: 268, sat: 55, light: 74 },
    java: { label: 'Java', hue: 125, sat: 48, light: 60 },
    jit: { label: 'JIT-compiled (user stack)', hue: 172, sat: 48, light: 60 },
    native: { label: 'native (user stack)', hue: 4, sat: 68, light: 66 },
    kernel: { label: 'kernel', hue: 33, sat: 85, light: 58 },
    note: { label: 'note', hue: 50, sat: 20, light: 88 },
  };
  const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  const tooltip = document.getElementById('tooltip');

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function svgElement(tag, attributes) {
    const made = document.createElementNS(SVG, tag);
    for (const name in attributes) made.setAttribute(name, attributes[name]);
    return made;
  }

  /** A length as the text report writes it, to three significant digits: 850 ns, 12.3 µs, 100 ms, 1.50 s. */
  function readable(nanos) {
    if (nanos < 1000) return Math.round(nanos) + ' ns';
    const units = ['µs', 'ms', 's'];
    let value = nanos / 1000;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2) + ' ' + units[unit];
  }

  function percent(part, whole) {
    return whole > 0 ? (100 * part / whole).toFixed(part === whole ? 0 : 1) + ' %' : '–';
  }

  function plural(count, word) {
    return count.toLocaleString('en') + ' ' + word + (count === 1 ? '' : 's');
  }

  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return h >>> 0;
  }

  /** The kind's colour, varied a little by name so that neighbouring boxes stand apart. */
  function colour(kind, name) {
    const k = KINDS[kind];
    const h = hash(name);
    return 'hsl(' + (k.hue + (h % 15) - 7) + ',' + k.sat + '%,' + (k.light + ((h >>> 8) % 9) - 4) + '%)';
  }

  function legend(box, entries) {
    for (const [label, fill] of entries) {
      const item = element('span');
      const swatch = element('i');
      swatch.style.background = fill;
      item.append(swatch, label);
      box.append(item);
    }
  }

  function showTooltip(event, lines) {
    tooltip.textContent = '';
    for (const line of lines) tooltip.append(element('div', '', line));
    tooltip.hidden = false;
    const x = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    const y = event.clientY + 16 + tooltip.offsetHeight > window.innerHeight ? event.clientY - tooltip.offsetHeight - 8 : event.clientY + 16;
    tooltip.style.left = Math.max(0, x) + 'px';
    tooltip.style.top = Math.max(0, y) + 'px';
  }

  function hideTooltip() {
    tooltip.hidden = true;
  }

  function threadLabel(thread) {
    const java = thread.javaName && thread.javaName !== thread.name ? ' "' + thread.javaName + '"' : '';
    return thread.name + java + ' (tid ' + thread.tid + ')';
  }

  function overview() {
    const box = document.getElementById('overview');
    box.textContent = '';
    const bold = (text) => element('b', '', text);
    box.append(bold(plural(data.sleeps, 'blocking sleep')), ' in ', bold(plural(data.threads.length, 'thread')),
      ', from ' + data.startedAt + ' for ' + readable(data.endNs) + '.');
    if (data.dropped > 0) {
      box.append(' ', bold(plural(data.dropped, 'more sleep')), ' could not be reported: the ring buffer was full (the kernel counted them).');
    }
  }

  // ---- Flame graph ----

  const flameBox = document.getElementById('flame');
  const searchBox = document.getElementById('search');
  const byThreadBox = document.getElementById('by-thread');
  const nodeOf = new WeakMap();
  let root;
  let focus;
  let matcher = null;

  function newNode(name, kind, parent) {
    return { name, kind, parent, depth: parent ? parent.depth + 1 : 0, children: new Map(), sleeps: 0, withLength: 0, blockedNs: 0 };
  }

  function count(node, stack) {
    node.sleeps += stack.sleeps;
    node.withLength += stack.withLength;
    node.blockedNs += stack.blockedNs;
  }

  /** The tree of all stacks: the root, the thread when split by thread, the syscall, then the frames, outermost first. */
  function buildTree(byThread) {
    const top = newNode('all', 'root', null);
    for (const stack of data.stacks) {
      const path = byThread ? [[stack.thread, 'thread']] : [];
      path.push([stack.what, 'syscall']);
      for (const frame of stack.frames) path.push(data.frames[frame]);
      let node = top;
      count(node, stack);
      for (const [name, kind] of path) {
        const key = kind + '\u0000' + name;
        let child = node.children.get(key);
        if (!child) {
          child = newNode(name, kind, node);
          node.children.set(key, child);
        }
        count(child, stack);
        node = child;
      }
    }
    (function sort(node) {
      node.kids = [...node.children.values()].sort((a, b) => b.sleeps - a.sleeps || (a.name < b.name ? -1 : 1));
      node.kids.forEach(sort);
    })(top);
    return top;
  }

  function treeHeight(node) {
    let height = 0;
    for (const kid of node.kids) height = Math.max(height, 1 + treeHeight(kid));
    return height;
  }

  function renderFlame() {
    hideTooltip();
    flameBox.textContent = '';
    if (root.sleeps === 0) {
      flameBox.append(element('p', 'hint', 'No blocking sleep was reported.'));
      flameBox.style.height = '';
      return;
    }
    const width = flameBox.clientWidth || 1000;
    const boxes = document.createDocumentFragment();
    const place = (node, x, w, ancestor) => {
      const box = element('div', 'frame' + (ancestor ? ' ancestor' : ''), node.name);
      box.style.left = (x * 100) + '%';
      box.style.width = (w * 100) + '%';
      box.style.top = (node.depth * ROW) + 'px';
      box.style.background = colour(node.kind, node.name);
      if (matcher && matcher(node.name)) box.classList.add('match');
      nodeOf.set(box, node);
      boxes.append(box);
    };
    const placeKids = (node, x, w) => {
      let kidX = x;
      for (const kid of node.kids) {
        const kidW = w * kid.sleeps / node.sleeps;
        if (kidW * width >= MIN_BOX_PX) {
          place(kid, kidX, kidW, false);
          placeKids(kid, kidX, kidW);
        }
        kidX += kidW;
      }
    };
    for (let node = focus.parent; node; node = node.parent) place(node, 0, 1, true);
    place(focus, 0, 1, false);
    placeKids(focus, 0, 1);
    flameBox.style.height = ((focus.depth + treeHeight(focus) + 1) * ROW + 2) + 'px';
    flameBox.append(boxes);
    flameBox.classList.toggle('searching', matcher !== null);
    showSearchResult();
  }

  /** The sleeps under boxes that match the search, each sleep once however many of its frames match. */
  function showSearchResult() {
    const result = document.getElementById('search-result');
    if (!matcher) {
      result.textContent = '';
      return;
    }
    let matched = 0;
    (function walk(node) {
      if (node !== root && matcher(node.name)) {
        matched += node.sleeps;
        return;
      }
      node.kids.forEach(walk);
    })(root);
    result.textContent = 'matched: ' + plural(matched, 'sleep') + ' (' + percent(matched, root.sleeps) + ')';
  }

  function searchMatcher(text) {
    if (!text) return null;
    const regex = /^\/(.+)\/$/.exec(text);
    if (regex) {
      try {
        const pattern = new RegExp(regex[1], 'i');
        return (name) => pattern.test(name);
      } catch (notARegex) {
        // searched as text below
      }
    }
    const lower = text.toLowerCase();
    return (name) => name.toLowerCase().includes(lower);
  }

  function frameTooltip(event, node) {
    const lines = [node.name, KINDS[node.kind].label,
      plural(node.sleeps, 'sleep') + ': ' + percent(node.sleeps, root.sleeps) + ' of all'
        + (focus !== root ? ', ' + percent(node.sleeps, focus.sleeps) + ' of the zoomed box' : '')];
    if (node.withLength > 0) {
      lines.push('blocked ' + readable(node.blockedNs) + ' in all'
        + (node.withLength < node.sleeps ? ' (the ' + plural(node.withLength, 'sleep') + ' whose length is known)' : ''));
    }
    showTooltip(event, lines);
  }

  function flameGraph() {
    legend(document.getElementById('legend'), Object.keys(KINDS).filter((kind) => kind !== 'root' && kind !== 'note')
      .map((kind) => [KINDS[kind].label, colour(kind, '')]));
    root = buildTree(false);
    focus = root;
    flameBox.addEventListener('click', (event) => {
      const node = nodeOf.get(event.target);
      if (node) {
        focus = node;
        renderFlame();
      }
    });
    flameBox.addEventListener('mousemove', (event) => {
      const node = nodeOf.get(event.target);
      if (node) frameTooltip(event, node); else hideTooltip();
    });
    flameBox.addEventListener('mouseleave', hideTooltip);
    document.getElementById('reset-zoom').addEventListener('click', () => {
      focus = root;
      renderFlame();
    });
    searchBox.addEventListener('input', () => {
      matcher = searchMatcher(searchBox.value.trim());
      renderFlame();
    });
    byThreadBox.addEventListener('change', () => {
      root = buildTree(byThreadBox.checked);
      focus = root;
      renderFlame();
    });
    renderFlame();
  }

  // ---- Timeline ----

  const timelineBox = document.getElementById('timeline');
  const LABEL_WIDTH = 240;
  const AXIS_HEIGHT = 20;
  let view = null;

  function timelineNote() {
    const timeline = data.timeline;
    const note = document.getElementById('timeline-note');
    let text = 'Each row is a thread, each mark a blocking sleep at its time, as wide as it lasted; '
      + 'a thin mark is a sleep whose end was not seen, a dashed one a thread still asleep when the report was written. '
      + 'Drag across it to zoom in, double-click to zoom out.';
    if (timeline.leftOut > 0) {
      text += ' It shows the most recent ' + plural(timeline.marks.length, 'sleep') + ': the '
        + plural(timeline.leftOut, 'earlier one') + ' were left out (the report keeps at most '
        + timeline.limit.toLocaleString('en') + ').';
    }
    note.textContent = text;
  }

  function markEnd(mark) {
    const [, , start, length, asleep] = mark;
    return length !== null ? start + length : asleep ? data.endNs : start;
  }

  /** A step of 1, 2 or 5 times a power of ten that gives about {@code count} ticks over {@code span}. */
  function tickStep(span, count) {
    const rough = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const multiple = rough / power >= 5 ? 5 : rough / power >= 2 ? 2 : 1;
    return multiple * power;
  }

  function drawTimeline() {
    hideTooltip();
    timelineBox.textContent = '';
    const marks = data.timeline.marks;
    if (marks.length === 0) {
      timelineBox.append(element('p', 'hint', 'No sleeps to draw.'));
      return;
    }
    const rows = new Map();
    [...new Set(marks.map((mark) => mark[0]))].sort((a, b) => a - b).forEach((thread) => rows.set(thread, rows.size));
    const width = Math.max(600, timelineBox.clientWidth);
    const plotWidth = width - LABEL_WIDTH - 12;
    const height = AXIS_HEIGHT + rows.size * ROW + 4;
    const full = [marks.reduce((earliest, mark) => Math.min(earliest, mark[2]), 0),
      marks.reduce((latest, mark) => Math.max(latest, markEnd(mark)), data.endNs)];
    const [from, to] = view || full;
    const span = Math.max(1, to - from);
    const x = (t) => LABEL_WIDTH + (t - from) / span * plotWidth;
    const chart = svgElement('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height });

    const step = tickStep(span, plotWidth / 100);
    for (let tick = Math.ceil(from / step) * step; tick <= to; tick += step) {
      chart.append(svgElement('line', { x1: x(tick), x2: x(tick), y1: AXIS_HEIGHT - 4, y2: height, class: 'grid' }));
      if (x(tick) + 50 < width) {
        const label = svgElement('text', { x: x(tick) + 2, y: AXIS_HEIGHT - 7, class: 'axis' });
        label.textContent = tick === 0 ? '0' : (tick < 0 ? '−' : '+') + readable(Math.abs(tick));
        chart.append(label);
      }
    }
    for (const [thread, row] of rows) {
      const y = AXIS_HEIGHT + row * ROW;
      chart.append(svgElement('line', { x1: 0, x2: width, y1: y + ROW, y2: y + ROW, class: 'rowline' }));
      const label = svgElement('text', { x: 4, y: y + 13, class: 'label' });
      const name = threadLabel(data.threads[thread]);
      label.textContent = name.length > 34 ? name.slice(0, 33) + '…' : name;
      const title = svgElement('title', {});
      title.textContent = name;
      label.append(title);
      chart.append(label);
    }
    marks.forEach((mark, index) => {
      const [thread, syscall, start, length, asleep] = mark;
      const end = markEnd(mark);
      if (end < from || start > to) return;
      const left = Math.max(LABEL_WIDTH, x(start));
      const right = Math.min(LABEL_WIDTH + plotWidth, x(end));
      const fill = PALETTE[syscall % PALETTE.length];
      const rect = svgElement('rect', {
        x: left, y: AXIS_HEIGHT + rows.get(thread) * ROW + 3, width: Math.max(length !== null || asleep ? 1.5 : 1, right - left),
        height: ROW - 6, fill, class: 'mark' + (asleep ? ' asleep' : ''), 'data-index': index,
      });
      if (asleep) {
        rect.setAttribute('fill-opacity', '0.3');
        rect.setAttribute('stroke', fill);
      } else if (length === null) {
        rect.setAttribute('fill-opacity', '0.6');
      }
      chart.append(rect);
    });
    const brush = svgElement('rect', { class: 'brush', y: AXIS_HEIGHT, height: height - AXIS_HEIGHT, width: 0, x: 0 });
    brush.setAttribute('visibility', 'hidden');
    chart.append(brush);
    timelineBox.append(chart);

    const time = (clientX) => from + (clientX - chart.getBoundingClientRect().left - LABEL_WIDTH) / plotWidth * span;
    let dragFrom = null;
    chart.addEventListener('mousedown', (event) => {
      dragFrom = event.clientX;
      event.preventDefault();
      window.addEventListener('mouseup', (up) => {
        const a = time(Math.min(dragFrom, up.clientX));
        const b = time(Math.max(dragFrom, up.clientX));
        dragFrom = null;
        if (Math.abs(b - a) / span * plotWidth > 4) {
          view = [a, b];
          drawTimeline();
        } else {
          brush.setAttribute('visibility', 'hidden');
        }
      }, { once: true });
    });
    chart.addEventListener('mousemove', (event) => {
      if (dragFrom !== null) {
        const left = Math.min(dragFrom, event.clientX) - chart.getBoundingClientRect().left;
        brush.setAttribute('x', left);
        brush.setAttribute('width', Math.abs(event.clientX - dragFrom));
        brush.setAttribute('visibility', 'visible');
        return;
      }
      const index = event.target.getAttribute('data-index');
      if (index === null) {
        hideTooltip();
        return;
      }
      const [thread, syscall, start, length, asleep] = marks[Number(index)];
      const at = new Date(data.startedAtEpochMs + start / 1e6).toISOString();
      showTooltip(event, [data.syscalls[syscall].name, threadLabel(data.threads[thread]) + ', pid ' + data.threads[thread].pid,
        'at +' + readable(Math.max(0, start)) + ' (' + at + ')',
        length !== null ? 'blocked ' + readable(length) : asleep ? 'still asleep when the report was written'
          : 'length not known: its thread exited, or its end was lost']);
    });
    chart.addEventListener('mouseleave', hideTooltip);
    chart.addEventListener('dblclick', () => {
      view = null;
      drawTimeline();
    });
  }

  function timeline() {
    timelineNote();
    legend(document.getElementById('timeline-legend'), data.syscalls.map((syscall, index) => [syscall.name, PALETTE[index % PALETTE.length]]));
    drawTimeline();
  }

  // ---- Tables ----

  /** A table of tallies, sorted by sleeps first; a click on a heading sorts by that column. */
  function tallyTable(table, first, rows, label) {
    const columns = [
      [first, label, (row) => label(row)],
      ['Sleeps', (row) => row.sleeps.toLocaleString('en'), (row) => row.sleeps],
      ['Share', (row) => percent(row.sleeps, data.sleeps), (row) => row.sleeps],
      ['Blocked in all', (row) => (row.withLength > 0 ? readable(row.blockedNs) : '–'), (row) => row.blockedNs],
      ['Longest', (row) => (row.withLength > 0 ? readable(row.longestNs) : '–'), (row) => row.longestNs],
      ['Mean', (row) => (row.withLength > 0 ? readable(row.blockedNs / row.withLength) : '–'),
        (row) => (row.withLength > 0 ? row.blockedNs / row.withLength : 0)],
      ['With a known length', (row) => row.withLength.toLocaleString('en'), (row) => row.withLength],
    ];
    let sortBy = 1;
    const draw = () => {
      table.textContent = '';
      const head = element('tr');
      columns.forEach(([title], index) => {
        const cell = element('th', index === sortBy ? 'sorted' : '', title);
        cell.addEventListener('click', () => {
          sortBy = index;
          draw();
        });
        head.append(cell);
      });
      const heading = element('thead');
      heading.append(head);
      table.append(heading);
      const body = element('tbody');
      const key = columns[sortBy][2];
      const sorted = [...rows].sort((a, b) => (sortBy === 0 ? (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) : key(b) - key(a)));
      for (const row of sorted) {
        const line = element('tr');
        columns.forEach(([, text], index) => {
          const cell = element('td', '', text(row));
          if (index === 0) cell.title = text(row);
          line.append(cell);
        });
        body.append(line);
      }
      table.append(body);
    };
    draw();
  }

  function tables() {
    tallyTable(document.getElementById('by-syscall'), 'Syscall', data.syscalls, (row) => row.name);
    tallyTable(document.getElementById('by-thread-table'), 'Thread', data.threads, (row) => threadLabel(row) + ', pid ' + row.pid);
  }

  overview();
  flameGraph();
  timeline();
  tables();
  let resizing = false;
  window.addEventListener('resize', () => {
    if (resizing) return;
    resizing = true;
    requestAnimationFrame(() => {
      resizing = false;
      renderFlame();
      drawTimeline();
    });
  });
})();
