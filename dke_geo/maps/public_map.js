// The residents' map and list, linked both ways (built by dke_geo/maps/public.py; no third-party code).
// The findings come as JSON data (#dke-data): pins in clusters at low zoom (Leaflet.markercluster), one pin each
// when zoomed in, and the same findings as a sortable, paged table. Every text from the data is put in the page
// with textContent, never as HTML. `map` is the Leaflet map.
(function (map) {
  "use strict";
  const data = JSON.parse(document.getElementById("dke-data").textContent);
  const s = data.strings;
  const PAGE = matchMedia("(min-width: 900px)").matches ? 25 : 10;  // a phone: a shorter page of cards
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v;
      else if (k === "cls") node.className = v;
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    });
    children.forEach((c) => c && node.appendChild(c));
    return node;
  };
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_m, k) => String(values[k]));

  // The findings as objects, in the data's order (newest first).
  const findings = data.f.map((r, i) => ({
    index: i, key: r[0], lat: r[1], lon: r[2], cat: data.cats[r[3]], group: data.groups[r[4]],
    area: data.areas[r[5]], monthKey: data.months[r[6]][0], month: data.months[r[6]][1], text: data.texts[r[7]],
    textLang: r[8] ? data.otherLang : null,
    status: data.statusTexts[r[9]], photos: r[10].map((p) => data.photos[p]),
  }));

  // ------------------------------------------------------------------ the map
  const slot = $("dke-map-slot");
  slot.appendChild(map.getContainer());  // folium writes the map's element last: it belongs in the layout
  map.getContainer().setAttribute("aria-label", s.mapLabel);
  map.getContainer().setAttribute("aria-describedby", "dke-map-desc");
  map.invalidateSize();

  const icons = {};  // one icon per status group, shared by its pins (an icon makes a new element for each pin shown)
  function pinIcon(f) {
    const html = '<span class="dke-pin-dot" aria-hidden="true"></span><span class="dke-sr"></span>';
    return icons[f.group.id] ??= L.divIcon({className: "dke-pin dke-s-" + f.group.id, html: html,
                                           iconSize: [30, 30], iconAnchor: [15, 15], popupAnchor: [0, -12]});
  }
  if (!isFinite(map.getMaxZoom())) map.setMaxZoom(19);  // no tile layer to set it: clustering needs one
  const cluster = L.markerClusterGroup({
    disableClusteringAtZoom: 17, showCoverageOnHover: false, maxClusterRadius: 60,
    iconCreateFunction: (c) => {
      const n = c.getChildCount();
      const size = n < 10 ? 34 : n < 100 ? 40 : n < 1000 ? 46 : 54;
      return L.divIcon({className: "dke-cluster", iconSize: [size, size],
                        html: '<span aria-hidden="true">' + n + '</span><span class="dke-sr">' +
                              fill(s.cluster, {n: n}) + "</span>"});
    },
  });
  const markers = findings.map((f) => {
    const marker = L.marker([f.lat, f.lon], {icon: pinIcon(f), keyboard: true, riseOnHover: true});
    marker.on("add", () => {  // the icon element exists only while the pin is shown
      const icon = marker.getElement();
      icon.style.setProperty("--dke-colour", f.cat.colour);
      icon.querySelector(".dke-pin-dot").textContent = f.cat.icon;
      icon.querySelector(".dke-sr").textContent = [f.cat.label, f.area, f.month, f.status].join(", ");
      icon.dataset.key = f.key;
    });
    marker.bindPopup(() => popup(f), {maxWidth: 300, autoPanPadding: [16, 16]});
    marker.on("click", () => select(f, {fromMap: true}));
    return marker;
  });
  // The view first (the clusters are then made once, for it); the cluster on the map next, then the pins in one go:
  // added to a cluster not yet on a map, every pin is checked against all pins before it (quadratic: 10,000 pins);
  // added in chunks, the pins would appear after data-ready.
  if (data.bounds) {
    map.fitBounds([[data.bounds[1], data.bounds[0]], [data.bounds[3], data.bounds[2]]], {padding: [24, 24],
                                                                                          maxZoom: 17});
  }
  cluster.addTo(map);
  cluster.addLayers(markers);
  const overlays = {};
  if (window[data.shading]) overlays[s.shading] = window[data.shading];
  overlays[s.findings] = cluster;
  L.control.layers(null, overlays, {collapsed: true}).addTo(map);

  new ResizeObserver(() => map.invalidateSize()).observe(slot);

  function popup(f) {
    const box = el("div", {cls: "dke-popup"});
    box.appendChild(el("h3", {text: f.cat.icon + " " + f.cat.label}));
    box.appendChild(el("p", {cls: "dke-popup-where", text: f.area + ", " + f.month}));
    box.appendChild(el("p", {cls: "dke-public-text", lang: f.textLang, text: f.text}));
    box.appendChild(el("p", {cls: "dke-popup-status"}, el("strong", {text: s.status + ": "}),
                       document.createTextNode(f.status)));
    f.photos.forEach((p) => box.appendChild(el("img", {cls: "dke-public-photo", src: p[0], alt: p[1],
                                                       width: p[2], height: p[3]})));
    const actions = el("p", {cls: "dke-actions"});
    actions.appendChild(el("button", {type: "button", text: s.showInList}));
    actions.lastChild.addEventListener("click", () => select(f, {focusRow: true}));
    if (data.answer && f.group.answerable) actions.appendChild(answerButton(f));
    box.appendChild(actions);
    return box;
  }
  map.on("popupopen", (e) => {
    const close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", s.closePopup); close.title = s.closePopup; }
    if (keyboardOpened) e.popup.getElement().querySelector("h3").setAttribute("tabindex", "-1");
    if (keyboardOpened) e.popup.getElement().querySelector("h3").focus();
    keyboardOpened = false;
  });
  let keyboardOpened = false;
  map.getContainer().addEventListener("keydown", (e) => { if (e.key === "Enter") keyboardOpened = true; }, true);

  function answerButton(f) {
    const button = el("button", {type: "button", cls: "dke-answer", text: s.answer});
    button.setAttribute("aria-label", s.answer + " " + [f.cat.label, f.area, f.month].join(", "));
    button.addEventListener("click", () => window.parent.postMessage({type: "dke-answer", key: f.key}, "*"));
    return button;
  }

  // The map's own controls in the page's language (Leaflet's are English).
  const named = (selector, label) => document.querySelectorAll(selector).forEach((n) => {
    n.title = label; n.setAttribute("aria-label", label);
  });
  named(".leaflet-control-zoom-in", s.zoomIn);
  named(".leaflet-control-zoom-out", s.zoomOut);
  named(".leaflet-control-layers-toggle", s.layers);

  // ------------------------------------------------------------------ the list
  const state = {sort: "area", area: "", group: "", page: 0, selected: null};
  const collator = new Intl.Collator(data.lang);
  const orders = {  // each sort: a comparison, then newest first, then the data's order
    area: (a, b) => collator.compare(a.area, b.area),
    newest: (a, b) => b.monthKey.localeCompare(a.monthKey),
    oldest: (a, b) => a.monthKey.localeCompare(b.monthKey),
    category: (a, b) => collator.compare(a.cat.label, b.cat.label),
    status: (a, b) => a.group.order - b.group.order,
  };
  function shown() {
    const rows = findings.filter((f) => (!state.area || f.area === state.area)
                                      && (!state.group || f.group.id === state.group));
    return rows.sort((a, b) => orders[state.sort](a, b) || orders.newest(a, b) || a.index - b.index);
  }
  const list = $("dke-items");
  function render(announce) {
    const rows = shown();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.max(0, Math.min(state.page, pages - 1));
    list.replaceChildren(...rows.slice(state.page * PAGE, state.page * PAGE + PAGE).map(item));
    list.start = state.page * PAGE + 1;
    $("dke-page").textContent = fill(s.page, {page: state.page + 1, pages: pages});
    $("dke-prev").disabled = state.page === 0;
    $("dke-next").disabled = state.page >= pages - 1;
    const summary = fill(s.showing, {first: rows.length ? state.page * PAGE + 1 : 0,
                                     last: Math.min(rows.length, (state.page + 1) * PAGE), n: rows.length});
    $("dke-summary").textContent = summary;
    if (announce) $("dke-live").textContent = summary;
  }
  function item(f) {
    const li = el("li", {id: "item-" + f.key, "data-key": f.key, cls: "dke-item",
                         "aria-current": state.selected === f.key ? "true" : null});
    li.appendChild(el("h3", {}, el("span", {"aria-hidden": "true", cls: "dke-swatch",
                                            style: "--dke-colour:" + f.cat.colour, text: f.cat.icon}),
                      document.createTextNode(" " + f.cat.label)));
    li.appendChild(el("p", {cls: "dke-where", text: f.area + " · " + f.month}));
    li.appendChild(el("p", {cls: "dke-public-text", lang: f.textLang, text: f.text}));
    li.appendChild(el("p", {cls: "dke-status"}, el("span", {cls: "dke-sr", text: s.status + ": "}),
                      el("span", {cls: "dke-badge dke-s-" + f.group.id, text: f.status})));
    const actions = el("p", {cls: "dke-actions"});
    const show = el("button", {type: "button", cls: "dke-show", text: s.showOnMap,
                               "aria-label": s.showOnMap + ": " + [f.cat.label, f.area, f.month].join(", ")});
    show.addEventListener("click", () => select(f, {fromList: true}));
    actions.appendChild(show);
    if (data.answer && f.group.answerable) actions.appendChild(answerButton(f));
    li.appendChild(actions);
    return li;
  }

  // Selecting a finding: in the list (its page, marked and scrolled to) and on the map (zoomed to, popup open).
  function select(f, how) {
    state.selected = f.key;
    if (state.area && state.area !== f.area) state.area = $("dke-area").value = "";
    if (state.group && state.group !== f.group.id) state.group = $("dke-group").value = "";
    const rows = shown();
    state.page = Math.floor(rows.indexOf(f) / PAGE);
    render(false);
    const li = $("item-" + f.key);
    const ownScroll = getComputedStyle($("dke-list")).overflowY === "auto";  // wide: the list scrolls beside the map
    if (!how.fromMap || ownScroll) li.scrollIntoView({block: "nearest"});
    $("dke-live").textContent = fill(how.fromList ? s.shownOnMap : s.shownInList,
                                     {what: [f.cat.label, f.area, f.month].join(", ")});
    if (how.focusRow) { li.querySelector("button").focus(); map.closePopup(); }
    if (how.fromList) {
      const marker = markers[f.index];
      cluster.zoomToShowLayer(marker, () => marker.openPopup());
      slot.scrollIntoView({block: "nearest"});
    }
  }

  $("dke-sort").addEventListener("change", (e) => { state.sort = e.target.value; state.page = 0; render(true); });
  $("dke-group").addEventListener("change", (e) => { state.group = e.target.value; state.page = 0; render(true); });
  $("dke-area").addEventListener("change", (e) => { state.area = e.target.value; state.page = 0; render(true); });
  $("dke-prev").addEventListener("click", () => { state.page -= 1; render(true); });
  $("dke-next").addEventListener("click", () => { state.page += 1; render(true); });
  render(false);

  // The embedding page sizes its frame to this document (the public page; the static site's index.html).
  const report = () => window.parent.postMessage({type: "dke-height",
                                                  height: document.documentElement.scrollHeight}, "*");
  new ResizeObserver(report).observe(document.body);
  document.documentElement.dataset.ready = "1";  // for tests: the map, pins and list are in place
})
