// Compares two V8 heap snapshots of one process (e.g. those of `npm run bench -- sockets --heap-snapshots <dir>`):
// self sizes summed by node type and name, the groups that grew the most, and for the objects that
// are new in the second (ids are stable within a process; native ones excepted, renumbered in each
// snapshot) what holds them, to tell compiled code and grown tables from objects still held.
// Usage: node bench/lib/heap-snapshot-diff.js <before.heapsnapshot> <after.heapsnapshot> [--top 30] [--paths 10]
import { readFileSync } from 'node:fs';
import { flags } from './processes.js';

const [beforeFile, afterFile] = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
const options = flags({ top: 30, paths: 10 });
if (!beforeFile || !afterFile) {
  console.error('usage: node bench/lib/heap-snapshot-diff.js <before.heapsnapshot> <after.heapsnapshot> [--top 30] [--paths 10]');
  process.exit(2);
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

function load(file) {
  const { snapshot, nodes, edges, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = snapshot.meta;
  const width = nodeFields.length;
  const edgeWidth = edgeFields.length;
  const at = (field) => nodeFields.indexOf(field);
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map(at);
  const count = nodes.length / width;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * width + edgeCountAt] * edgeWidth;
  const node = (i) => {
    const type = nodeTypes[0][nodes[i * width + typeAt]];
    // Strings by their kind, not their text (each text would be a group of its own).
    const name = STRING_TYPES.has(type) ? '' : strings[nodes[i * width + nameAt]];
    return { type, name, id: nodes[i * width + idAt], size: nodes[i * width + sizeAt] };
  };
  // Who points at each node (for retainer paths), weak edges left out.
  const retainers = Array.from({ length: count }, () => []);
  const edgeType = edgeFields.indexOf('type');
  const edgeName = edgeFields.indexOf('name_or_index');
  const edgeTo = edgeFields.indexOf('to_node');
  for (let i = 0; i < count; i++) {
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += edgeWidth) {
      const type = edgeTypes[0][edges[e + edgeType]];
      if (type === 'weak') continue;
      const nameOrIndex = edges[e + edgeName];
      const label = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : String(strings[nameOrIndex]);
      retainers[edges[e + edgeTo] / width].push({ from: i, label });
    }
  }
  return { count, node, retainers };
}

const key = ({ type, name }) => `${type}  ${name.length > 80 ? `${name.slice(0, 77)}...` : name}`;

function groups(heap) {
  const byKey = new Map();
  for (let i = 0; i < heap.count; i++) {
    const n = heap.node(i);
    const group = byKey.get(key(n)) ?? byKey.set(key(n), { count: 0, size: 0 }).get(key(n));
    group.count++;
    group.size += n.size;
  }
  return byKey;
}

/** The steps of one path from a GC root to node `start` (shortest: breadth-first over retainers), root first. */
function retainerSteps(heap, start) {
  const seen = new Map([[start, undefined]]);
  let frontier = [start];
  for (let depth = 0; depth < 14 && frontier.length > 0; depth++) {
    const next = [];
    for (const i of frontier) {
      for (const { from, label } of heap.retainers[i]) {
        if (seen.has(from)) continue;
        seen.set(from, { to: i, label });
        if (heap.node(from).type === 'synthetic') {
          const steps = [];
          for (let at = from; at !== start; at = seen.get(at).to) {
            const { type, name } = heap.node(at);
            steps.push(`${type === 'object' || type === 'closure' ? name : `${type} ${name}`.trim()} .${seen.get(at).label}`);
          }
          return steps;
        }
        next.push(from);
      }
    }
    frontier = next;
  }
  return ['(no root within 14 steps)'];
}

const retainerPath = (heap, start) => retainerSteps(heap, start).join(' -> ');

/** What holds a group's objects: the last `depth` steps of each one's path (indexes dropped), by count and size, for up to `limit` of them. */
function holders(heap, members, depth = 3, limit = 400) {
  const byHolder = new Map();
  const step = members.length > limit ? members.length / limit : 1;
  for (let k = 0; k < members.length; k += step) {
    const i = members[Math.floor(k)];
    const path = retainerSteps(heap, i)
      .slice(-depth)
      .map((s) => s.replace(/ \.\[?\d+\]?$/, ' .[n]').replace(/@\d+/g, '@'))
      .join(' -> ');
    const holder = byHolder.get(path) ?? byHolder.set(path, { count: 0, size: 0 }).get(path);
    holder.count += step;
    holder.size += heap.node(i).size * step;
  }
  return [...byHolder.entries()].sort((x, y) => y[1].size - x[1].size);
}

const kb = (bytes) => (bytes / 1024).toFixed(1).padStart(9);
const before = load(beforeFile);
const after = load(afterFile);
const beforeGroups = groups(before);
const afterGroups = groups(after);
let beforeTotal = 0;
let afterTotal = 0;
for (const { size } of beforeGroups.values()) beforeTotal += size;
for (const { size } of afterGroups.values()) afterTotal += size;
console.log(`self sizes: ${kb(beforeTotal)} KB -> ${kb(afterTotal)} KB (${kb(afterTotal - beforeTotal)} KB)`);

// By type first: code, arrays, strings, objects...
const byType = (heap) => {
  const sums = new Map();
  for (let i = 0; i < heap.count; i++) {
    const { type, size } = heap.node(i);
    sums.set(type, (sums.get(type) ?? 0) + size);
  }
  return sums;
};
const typesBefore = byType(before);
const typesAfter = byType(after);
console.log('\nby node type (KB): before, after, difference');
const typeRows = [...new Set([...typesBefore.keys(), ...typesAfter.keys()])].map((type) => [type, typesBefore.get(type) ?? 0, typesAfter.get(type) ?? 0]);
typeRows.sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
for (const [type, b, a] of typeRows) console.log(`${kb(b)} ${kb(a)} ${kb(a - b)}  ${type}`);

const diff = [...new Set([...beforeGroups.keys(), ...afterGroups.keys()])].map((name) => {
  const b = beforeGroups.get(name) ?? { count: 0, size: 0 };
  const a = afterGroups.get(name) ?? { count: 0, size: 0 };
  return { name, count: a.count - b.count, size: a.size - b.size, after: a.size };
});
diff.sort((x, y) => y.size - x.size);
console.log(`\ntop ${options.top} growths by type+name (KB difference, count difference, KB after)`);
for (const row of diff.slice(0, options.top)) console.log(`${kb(row.size)} ${String(row.count).padStart(8)} ${kb(row.after)}  ${row.name}`);
console.log(`\ntop ${Math.min(10, options.top)} shrinks`);
for (const row of diff.slice(-Math.min(10, options.top)).reverse())
  console.log(`${kb(row.size)} ${String(row.count).padStart(8)} ${kb(row.after)}  ${row.name}`);

// Objects new in the second snapshot, by group, with the ends of their paths from a root.
const oldIds = new Set();
for (let i = 0; i < before.count; i++) oldIds.add(before.node(i).id);
const fresh = new Map();
for (let i = 0; i < after.count; i++) {
  const n = after.node(i);
  if (oldIds.has(n.id)) continue;
  const group = fresh.get(key(n)) ?? fresh.set(key(n), { count: 0, size: 0, members: [] }).get(key(n));
  group.count++;
  group.size += n.size;
  group.members.push(i);
}
const freshRows = [...fresh.entries()].sort((x, y) => y[1].size - x[1].size);
let freshTotal = 0;
for (const [, { size }] of freshRows) freshTotal += size;
console.log(
  `\nobjects new in the second snapshot: ${kb(freshTotal)} KB; top ${options.paths} groups (KB, count), and what holds them (the last steps of their paths from a root, for a sample of up to 400)`,
);
for (const [name, { count, size, members }] of freshRows.slice(0, options.paths)) {
  console.log(`${kb(size)} ${String(count).padStart(8)}  ${name}`);
  for (const [path, holder] of holders(after, members).slice(0, 3)) console.log(`      ~${kb(holder.size).trim()} KB, ~${Math.round(holder.count)}: ${path}`);
}

// Large single objects (tables, buffers) new in the second snapshot, with their whole path.
const large = [];
for (const [, { members }] of freshRows) for (const i of members) if (after.node(i).size >= 16 * 1024) large.push(i);
large.sort((x, y) => after.node(y).size - after.node(x).size);
console.log('\nnew objects of 16 KB or more (KB, type name, path from a root)');
for (const i of large.slice(0, 20)) console.log(`${kb(after.node(i).size)}  ${key(after.node(i))}\n      ${retainerPath(after, i)}`);
