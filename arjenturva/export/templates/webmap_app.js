/* The script of arjenturva's map.html: draws the JSON data of <script id="at-data"> with Leaflet.
 *
 * Every feature is drawn with the style of its symbol (D.symbols) and gets the CSS class
 * "at-sym-<key>"; the legend lists the symbols of the layers on the map, so it shows exactly what
 * is drawn. Cells are coloured by the reach classes of the PNG maps (distance against each cell's
 * own threshold), named in the legend as for the service shown. One service is shown at a time (the base layers, radio buttons); the overlays that
 * depend on the service are refilled when it changes. User text is only ever set as text
 * (textContent or DOM nodes), never as HTML.
 */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('at-data').textContent);
  var S = D.symbols;
  var W = D.words;
  var SVG = 'http://www.w3.org/2000/svg';

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  /* --- symbols: one drawing function for the map and the legend ------------------------------ */

  function star(c, ro, ri) {
    var pts = [];
    for (var i = 0; i < 10; i++) {
      var r = i % 2 ? ri : ro, a = Math.PI / 5 * i - Math.PI / 2;
      pts.push((c + r * Math.cos(a)).toFixed(2) + ',' + (c + r * Math.sin(a)).toFixed(2));
    }
    return pts.join(' ');
  }

  var SHAPES = {
    triangle: function (s, w) { return [s / 2, w, s - w, s - w, w, s - w].join(' '); },
    diamond: function (s, w) { return [s / 2, w, s - w, s / 2, s / 2, s - w, w, s / 2].join(' '); },
    plus: function (s, w) {
      var a = s / 3, b = 2 * s / 3, lo = w, hi = s - w;
      return [a, lo, b, lo, b, a, hi, a, hi, b, b, b, b, hi, a, hi, a, b, lo, b, lo, a, a, a].join(' ');
    },
    star: function (s, w) { return star(s / 2, s / 2 - w, (s / 2 - w) * 0.45); },
    square: function (s, w) { var lo = w + 1, hi = s - w - 1; return [lo, lo, hi, lo, hi, hi, lo, hi].join(' '); },
    cross: function (s, w) {
      // a plus turned by 45 degrees
      var c = s / 2, r = (c - w) * 0.95, a = r * 0.3, k = Math.SQRT1_2;
      var plus = [[-a, -r], [a, -r], [a, -a], [r, -a], [r, a], [a, a], [a, r], [-a, r], [-a, a], [-r, a], [-r, -a], [-a, -a]];
      return plus.map(function (p) {
        return (c + (p[0] - p[1]) * k).toFixed(2) + ',' + (c + (p[0] + p[1]) * k).toFixed(2);
      }).join(' ');
    }
  };

  function markerSvg(sym) {
    var s = sym.size, w = 1.2;
    var svg = svgEl('svg', { width: s, height: s, viewBox: '0 0 ' + s + ' ' + s });
    var style = { fill: sym.fill, stroke: sym.edge, 'stroke-width': w };
    var shape = sym.shape === 'circle'
      ? svgEl('circle', Object.assign({ cx: s / 2, cy: s / 2, r: s / 2 - w }, style))
      : svgEl('polygon', Object.assign({ points: SHAPES[sym.shape](s, w) }, style));
    svg.appendChild(shape);
    return svg;
  }

  function pathStyle(key) {
    var sym = S[key], cls = 'at-sym at-sym-' + key;
    if (sym.kind === 'fill') {
      return { className: cls, stroke: false, fill: true, fillColor: sym.colour, fillOpacity: 0.75 };
    }
    if (sym.kind === 'outline') {
      return { className: cls, color: sym.colour, weight: 2, fill: true, fillOpacity: 0 };
    }
    if (sym.kind === 'area') {
      return {
        className: cls, color: sym.edge, weight: 0.8, opacity: sym.opacity,
        fill: true, fillColor: sym.colour, fillOpacity: sym.opacity
      };
    }
    return { className: cls, color: sym.colour, weight: sym.weight, dashArray: sym.dash || null, fill: false };
  }

  function labelNode(key, text) {
    var span = el('span', 'at-label at-label-' + key.replace('-label', ''));
    if (key === 'place-label') span.appendChild(el('span', 'at-dot'));
    span.appendChild(document.createTextNode(text));
    return span;
  }

  function legendSwatch(key) {
    var sym = S[key];
    if (sym.kind === 'marker') return markerSvg(sym);
    if (sym.kind === 'text') return labelNode(key, 'Aa');
    var svg = svgEl('svg', { width: 24, height: 14 });
    var st = pathStyle(key);
    if (sym.kind === 'line') {
      svg.appendChild(svgEl('line', {
        x1: 1, y1: 7, x2: 23, y2: 7, stroke: st.color, 'stroke-width': st.weight,
        'stroke-dasharray': st.dashArray || 'none'
      }));
    } else {
      var filled = sym.kind === 'fill' || sym.kind === 'area';
      svg.appendChild(svgEl('rect', {
        x: 2, y: 1, width: 20, height: 12,
        fill: filled ? st.fillColor : 'none', 'fill-opacity': st.fillOpacity,
        stroke: sym.kind === 'fill' ? '#555555' : st.color, 'stroke-width': filled ? 0.8 : 2
      }));
    }
    return svg;
  }

  function marker(latlng, key, pane) {
    var sym = S[key];
    var icon = L.divIcon({
      className: 'at-marker at-sym at-sym-' + key,
      html: markerSvg(sym),
      iconSize: [sym.size, sym.size]
    });
    return L.marker(latlng, { icon: icon, pane: pane, keyboard: false });
  }

  function textLabel(latlng, key, text) {
    var icon = L.divIcon({
      className: 'at-sym at-sym-' + key, html: labelNode(key, text), iconSize: [0, 0], iconAnchor: [0, 0]
    });
    return L.marker(latlng, { icon: icon, pane: 'at-labels', interactive: false, keyboard: false });
  }

  function popupTable(fields, values) {
    return function () {
      var table = el('table', 'at-popup');
      fields.forEach(function (heading, i) {
        var v = values[i];
        if (v === null || v === undefined || v === '') return;
        var tr = el('tr');
        tr.appendChild(el('th', null, heading));
        tr.appendChild(el('td', null, v));
        table.appendChild(tr);
      });
      return table;
    };
  }

  // popups keep clear of the title (top left) and the layer list (top right) when the map pans
  var POPUP = {
    maxWidth: 400, maxHeight: 420, autoPanPaddingTopLeft: [60, 170], autoPanPaddingBottomRight: [60, 40]
  };

  function textNode(text) {
    return function () { return el('span', null, text); };
  }

  /* --- the map --------------------------------------------------------------------------------- */

  var map = L.map('at-map', { zoomControl: false, zoomSnap: 0.25 });
  map.attributionControl.setPrefix(false);
  window.arjenturvaMap = map;
  [['at-cells', 405], ['at-roads', 410], ['at-context', 415], ['at-gaps', 420], ['at-borders', 430],
    ['at-lines', 440], ['at-marks', 605], ['at-points', 610], ['at-proposals', 620], ['at-labels', 650]
  ].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1];
  });
  map.getPane('at-labels').style.pointerEvents = 'none';
  map.fitBounds(D.bounds);

  function group() {
    var g = L.layerGroup();
    g.syms = {};
    return g;
  }

  function mark(g, key) { g.syms[key] = true; }

  function ofService(fc, i) {
    if (!fc) return [];
    return fc.features.filter(function (f) {
      var s = f.properties.s;
      return Array.isArray(s) ? s.indexOf(i) >= 0 : s === i;
    });
  }

  // the services (radio buttons): each base layer holds the cells coloured for its service
  var cellRenderer = D.cells.canvas ? L.canvas({ pane: 'at-cells' }) : undefined;
  var bases = D.services.map(function (svc, i) { var g = group(); g.serviceIndex = i; return g; });

  function km(d) {
    return d === null ? W.unreachable : (d / 10).toFixed(1).replace('.', D.decimal) + ' ' + W.km;
  }

  function drawCells(g) {
    var i = g.serviceIndex;
    g.clearLayers();
    g.syms = {};
    g.addLayer(L.geoJSON(D.cells.fc, {
      pane: 'at-cells',
      renderer: cellRenderer,
      style: function (f) {
        var key = 'reach-' + f.properties.c[i];
        mark(g, key);
        return pathStyle(key);
      },
      // cells given as points (postal areas) are dots of their class
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 4, pane: 'at-cells', renderer: cellRenderer });
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(textNode(W.cell_distance + ': ' + km(f.properties.d[i]) + ' · ' +
          D.services[i].classes[f.properties.c[i]] + ' · ' + W.population + ': ' + f.properties.p),
        { sticky: true });
      }
    }));
    // a cross on each cell the roads do not reach for this service
    D.cells.unreachable.forEach(function (r) {
      if (r[2].indexOf(i) < 0) return;
      var m = marker([r[0], r[1]], 'unreachable', 'at-marks');
      m.bindTooltip(textNode(S.unreachable.label));
      g.addLayer(m);
      mark(g, 'unreachable');
    });
  }

  // the overlays; those that depend on the service are refilled by fill(i)
  function fillPoints(g, i) {
    ofService(D.points.fc, i).forEach(function (f) {
      var c = f.geometry.coordinates, key = f.properties.o ? 'off-road' : 'mode-' + f.properties.m;
      var m = marker([c[1], c[0]], key, 'at-points');
      m.bindPopup(popupTable(D.points.fields, f.properties.v), POPUP);
      m.bindTooltip(textNode(f.properties.n));
      g.addLayer(m);
      mark(g, key);
    });
  }

  function fillGaps(g, i) {
    var feats = ofService(D.gaps.fc, i);
    if (!feats.length) return;
    g.addLayer(L.geoJSON({ type: 'FeatureCollection', features: feats }, {
      pane: 'at-gaps',
      style: function () { return pathStyle('gap'); },
      onEachFeature: function (f, layer) { layer.bindPopup(popupTable(D.gaps.fields, f.properties.v), POPUP); }
    }));
    mark(g, 'gap');
  }

  // a proposed agreement at a proposed new site is shown in the site's popup, under its star
  function fillProposals(g, i) {
    var P = D.proposals;
    var sites = {};
    ofService(P.sites, i).forEach(function (f) {
      sites[f.geometry.coordinates.join(',')] = { feature: f, agreements: [] };
    });
    var feats = ofService(P.fc, i).filter(function (f) {
      var site = f.geometry.type === 'Point' && sites[f.geometry.coordinates.join(',')];
      if (site) site.agreements.push(f);
      return !site;
    });
    Object.keys(sites).forEach(function (k) {
      var site = sites[k], c = site.feature.geometry.coordinates;
      var m = marker([c[1], c[0]], 'new-site', 'at-proposals');
      var tables = [popupTable(P.site_fields, site.feature.properties.v)].concat(
        site.agreements.map(function (f) { return popupTable(P.fields, f.properties.v); }));
      m.bindPopup(function () {
        var box = el('div');
        tables.forEach(function (t, j) {
          if (j) box.appendChild(el('hr'));
          box.appendChild(t());
        });
        return box;
      }, POPUP);
      g.addLayer(m);
      mark(g, 'new-site');
    });
    if (feats.length) {
      g.addLayer(L.geoJSON({ type: 'FeatureCollection', features: feats }, {
        pane: 'at-lines',
        style: function () { mark(g, 'proposal-line'); return pathStyle('proposal-line'); },
        pointToLayer: function (f, latlng) {
          mark(g, 'proposal-point');
          return marker(latlng, 'proposal-point', 'at-proposals');
        },
        onEachFeature: function (f, layer) {
          layer.bindPopup(popupTable(P.fields, f.properties.v), POPUP);
        }
      }));
    }
  }

  function staticGroup(build) {
    var g = group();
    build(g);
    return g;
  }

  var roads = staticGroup(function (g) {
    if (!D.roads) return;
    g.addLayer(L.geoJSON(D.roads, {
      pane: 'at-roads', interactive: false,
      style: function (f) { mark(g, 'road-' + f.properties.g); return pathStyle('road-' + f.properties.g); }
    }));
  });
  var borders = staticGroup(function (g) {
    g.addLayer(L.geoJSON(D.borders, {
      pane: 'at-borders', interactive: false, style: function () { return pathStyle('border'); }
    }));
    mark(g, 'border');
  });
  var labelOrder = [];
  function addLabels(g, rows, key) {
    rows.forEach(function (r) {
      var m = textLabel([r[0], r[1]], key, r[2]);
      g.addLayer(m);
      labelOrder.push({ marker: m, group: g });
      mark(g, key);
    });
  }
  function labelGroup(rows, key) {
    return staticGroup(function (g) { addLabels(g, rows, key); });
  }
  var muniNames = labelGroup(D.labels.municipalities, 'municipality-label');
  var placeNames = labelGroup(D.labels.places, 'place-label');
  // the municipalities around the study area: a grey veil over the roads, and their names last
  var context = staticGroup(function (g) {
    if (!D.context) return;
    g.addLayer(L.geoJSON(D.context, {
      pane: 'at-context', interactive: false, style: function () { return pathStyle('context'); }
    }));
    mark(g, 'context');
    addLabels(g, D.labels.context, 'context');
  });

  // the weekly routes of mobile services: lines along the roads and their stops
  var routes = staticGroup(function (g) {
    var RT = D.routes;
    if (!RT) return;
    if (RT.lines) {
      g.addLayer(L.geoJSON(RT.lines, {
        pane: 'at-lines',
        style: function () { mark(g, 'route-line'); return pathStyle('route-line'); },
        onEachFeature: function (f, layer) { layer.bindPopup(popupTable(RT.fields, f.properties.v), POPUP); }
      }));
    }
    if (RT.stops) {
      RT.stops.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var m = marker([c[1], c[0]], 'route-stop', 'at-marks');
        m.bindPopup(popupTable(RT.stop_fields, f.properties.v), POPUP);
        g.addLayer(m);
        mark(g, 'route-stop');
      });
    }
  });

  var byService = [
    { name: W.legend_points, group: group(), fill: fillPoints },
    { name: W.layer_gaps, group: group(), fill: fillGaps },
    { name: W.proposals, group: group(), fill: fillProposals }
  ];
  var overlays = byService.concat([
    { name: W.routes_layer, group: routes, empty: !D.routes },
    { name: W.legend_roads, group: roads, empty: !D.roads },
    { name: W.layer_municipality_names, group: muniNames, empty: !D.labels.municipalities.length },
    { name: W.layer_places, group: placeNames, empty: !D.labels.places.length },
    { name: W.layer_context, group: context, empty: !D.context },
    { name: W.borders_layer, group: borders }
  ]);

  var current = null;
  function showService(g) {
    bases.forEach(function (b) { if (b !== g) { b.clearLayers(); b.syms = {}; } });
    drawCells(g);
    current = g.serviceIndex;
    byService.forEach(function (o) {
      o.group.clearLayers();
      o.group.syms = {};
      o.fill(o.group, current);
    });
    var svc = D.services[current];
    var sub = document.getElementById('at-subtitle');
    sub.textContent = '';
    sub.appendChild(el('div', null, svc.title));
    sub.appendChild(el('div', 'at-note', svc.threshold));
    refresh();
  }

  /* --- controls: title, layers, scale, legend, credits --------------------------------------- */

  function boxControl(id, position) {
    var C = L.Control.extend({
      onAdd: function () {
        var box = document.getElementById(id);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    return new C({ position: position });
  }

  boxControl('at-title', 'topleft').addTo(map);
  L.control.zoom({ position: 'topleft' }).addTo(map);

  var baseItems = {};
  D.services.forEach(function (svc, i) { baseItems[esc(svc.label)] = bases[i]; });
  var overlayItems = {};
  overlays.forEach(function (o) { if (!o.empty) overlayItems[esc(o.name)] = o.group; });
  if (D.tiles) {
    overlayItems[esc(W.osm_layer)] = L.tileLayer(D.tiles.url, { attribution: esc(D.tiles.attribution), maxZoom: 18 });
  }
  var layers = L.control.layers(baseItems, overlayItems, { collapsed: false, position: 'topright' }).addTo(map);
  var lc = layers.getContainer();
  lc.querySelector('.leaflet-control-layers-base').before(el('h4', null, W.service));
  lc.querySelector('.leaflet-control-layers-overlays').before(el('h4', null, W.layers));

  L.control.scale({ imperial: false, metric: true, position: 'bottomleft' }).addTo(map);
  var legendBox = el('div', 'at-box');
  legendBox.id = 'at-legend';
  document.body.appendChild(legendBox);
  boxControl('at-legend', 'bottomleft').addTo(map);
  boxControl('at-credits', 'bottomright').addTo(map);

  function drawnSymbols() {
    var on = {};
    bases.concat(overlays.map(function (o) { return o.group; })).forEach(function (g) {
      if (map.hasLayer(g)) Object.keys(g.syms).forEach(function (k) { on[k] = true; });
    });
    return on;
  }

  // a cell class is named as for the service shown (with its kilometres when it has one threshold)
  function symbolLabel(key) {
    var sym = S[key];
    return sym.kind === 'fill' && current !== null ? D.services[current].classes[sym.index] : sym.label;
  }

  function updateLegend() {
    var on = drawnSymbols(), section = null;
    legendBox.textContent = '';
    legendBox.appendChild(el('h3', null, W.legend));
    Object.keys(S).forEach(function (key) {
      if (!on[key]) return;
      if (S[key].section !== section) {
        section = S[key].section;
        legendBox.appendChild(el('h4', null, section));
      }
      var row = el('div', 'at-entry');
      row.setAttribute('data-sym', key);
      var sw = el('span', 'at-sw');
      sw.appendChild(legendSwatch(key));
      row.appendChild(sw);
      row.appendChild(el('span', 'at-entry-label', symbolLabel(key)));
      legendBox.appendChild(row);
    });
  }

  // names that would overlap a name placed before them are hidden (municipalities first, then
  // places by importance); redone after every zoom
  function declutter() {
    var placed = [];
    labelOrder.forEach(function (item) {
      var node = item.marker.getElement();
      if (!node || !map.hasLayer(item.group)) return;
      node.style.visibility = '';
      var r = node.firstChild.getBoundingClientRect();
      var clash = placed.some(function (p) {
        return r.left < p.right + 4 && r.right + 4 > p.left && r.top < p.bottom + 2 && r.bottom + 2 > p.top;
      });
      if (clash) node.style.visibility = 'hidden';
      else placed.push(r);
    });
  }

  function refresh() {
    updateLegend();
    declutter();
  }

  map.on('baselayerchange', function (e) { showService(e.layer); });
  map.on('overlayadd overlayremove', refresh);
  map.on('zoomend', declutter);

  overlays.forEach(function (o) { if (!o.empty) o.group.addTo(map); });
  bases[0].addTo(map);
  showService(bases[0]);
}());
