// Cluster: the nodes (peers) and, per collection, its shards, replica states
// and transfers. On a single node it says so.
// Endpoints: GET /cluster, GET /collections, GET /collections/{c}/cluster.

import { api, collectionPath, collectionNames, canReadAll } from './app.js';
import { h, table, formatNumber } from './ui.js';

export async function render(main) {
  main.append(h('h2', {}, 'Cluster'));
  if (!canReadAll()) {
    main.append(h('p', { class: 'muted' }, 'The cluster view needs global read access.'));
    return;
  }
  const cluster = await api('GET', '/cluster');
  if (cluster.status !== 'enabled') {
    main.append(h('p', { id: 'cluster-disabled' }, 'Single node: this server runs without a cluster (`strata serve --cluster` joins one; docs/cluster.md).'));
  } else {
    const peers = Object.entries(cluster.peers || {}).sort((a, b) => a[0].localeCompare(b[0]));
    main.append(
      h('section', { class: 'panel', id: 'cluster-nodes' },
        h('h3', {}, 'Nodes'),
        h('p', {}, 'This node: peer ', h('code', {}, String(cluster.peer_id)), '; control plane term ' + (cluster.raft_info ? cluster.raft_info.term : '?') + ', role ' + (cluster.raft_info ? cluster.raft_info.role : '?') + '.'),
        table(
          [{ label: 'Peer' }, { label: 'Name' }, { label: 'Address' }, { label: 'State' }],
          peers.map(([id, p]) => {
            const cells = [h('code', {}, id + (String(cluster.peer_id) === id ? ' (this node)' : '')), p.node_name || '', p.uri, p.state || ''];
            cells.attributes = { 'data-peer': id };
            return cells;
          }),
          { id: 'peers-table' },
        ),
      ),
    );
  }
  const names = await collectionNames();
  const shards = h('section', { class: 'panel', id: 'cluster-shards' }, h('h3', {}, 'Shards and replicas'));
  main.append(shards);
  for (const name of names) {
    const info = await api('GET', collectionPath(name, '/cluster'));
    const key = (s) => (s.shard_key === undefined || s.shard_key === null ? '' : String(s.shard_key));
    const replicas = [
      ...info.local_shards.map((s) => ({ shard: s.shard_id, cells: [String(s.shard_id), key(s), String(info.peer_id) + ' (this node)', s.state, formatNumber(s.points_count)] })),
      ...info.remote_shards.map((s) => ({ shard: s.shard_id, cells: [String(s.shard_id), key(s), String(s.peer_id), s.state, ''] })),
    ];
    const rows = replicas.sort((a, b) => a.shard - b.shard).map((r) => r.cells);
    const transfers = info.shard_transfers || [];
    shards.append(
      h('h4', {}, 'Collection ', h('code', {}, name), ' · ' + info.shard_count + ' shard(s)'),
      table([{ label: 'Shard' }, { label: 'Key' }, { label: 'Peer' }, { label: 'State' }, { label: 'Points here', num: true }], rows, { 'data-cluster-of': name }),
      transfers.length
        ? table([{ label: 'Transfer' }, { label: 'From' }, { label: 'To' }, { label: 'Method' }], transfers.map((t) => ['shard ' + t.shard_id, String(t.from), String(t.to), t.method || '']))
        : h('p', { class: 'muted' }, 'No transfers running.'),
    );
  }
  if (!names.length) shards.append(h('p', { class: 'muted' }, 'No collections.'));
}
