// The daemon's live status page: one self-contained HTML document (no external resource: it
// must work without internet). It polls GET /v1/jobs every second and draws pages/s per job on a
// canvas by hand.
#include "app/serve.hpp"

namespace crawld::app {

const std::string& status_page_html() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crawld</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 .5em} h2{font-size:16px;margin:1.2em 0 .4em}
table{border-collapse:collapse;background:#fff} th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child,td.name{text-align:left} tr.sel{background:#eef4ff} tr{cursor:pointer}
.state-running{color:#070}.state-paused{color:#a60}.state-failed{color:#b00}.state-cancelled{color:#666}
#chart{background:#fff;border:1px solid #ddd} .muted{color:#777} .cols{display:flex;gap:2em;flex-wrap:wrap}
</style></head><body>
<h1>crawld <span class="muted" id="updated">connecting…</span></h1>
<table id="jobs"><thead><tr><th>job</th><th>name</th><th>state</th><th>pages</th><th>pages/s</th>
<th>queued</th><th>in flight</th><th>failures</th><th>hosts</th></tr></thead><tbody></tbody></table>
<p id="empty" class="muted"></p>
<h2>pages/s</h2>
<canvas id="chart" width="760" height="220"></canvas>
<div class="cols">
<div><h2>outcomes <span class="muted" id="outcomes-job"></span></h2><table id="outcomes"><tbody></tbody></table></div>
<div><h2>top hosts</h2><table id="hosts"><tbody></tbody></table></div>
</div>
<script>
"use strict";
const series = {};       // job id -> [pages/s samples]
const N = 120;
const colors = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#17becf"];
let selected = null;
function cell(tr, text, cls){ const td=document.createElement("td"); td.textContent=text; if(cls) td.className=cls; tr.appendChild(td); return td; }
function draw(){
  const c=document.getElementById("chart"), g=c.getContext("2d"), W=c.width, H=c.height, pad=36;
  g.clearRect(0,0,W,H);
  let max=1; for(const id in series) for(const v of series[id]) max=Math.max(max,v);
  g.strokeStyle="#ccc"; g.fillStyle="#777"; g.font="11px sans-serif"; g.lineWidth=1;
  for(let k=0;k<=4;k++){ const y=H-pad/2-(H-pad)*k/4; g.beginPath(); g.moveTo(pad,y); g.lineTo(W-4,y); g.stroke();
    g.fillText((max*k/4).toFixed(max<8?1:0),2,y+4); }
  let i=0;
  for(const id in series){
    const h=series[id]; g.strokeStyle=colors[i++%colors.length]; g.lineWidth=2; g.beginPath();
    h.forEach((v,k)=>{ const x=pad+(W-pad-4)*(k+N-h.length)/(N-1), y=H-pad/2-(H-pad)*v/max; k?g.lineTo(x,y):g.moveTo(x,y); });
    g.stroke(); g.fillStyle=g.strokeStyle; g.fillText("job "+id, W-60, 14*i);
  }
}
function show(jobs){
  const tb=document.querySelector("#jobs tbody"); tb.textContent="";
  document.getElementById("empty").textContent = jobs.length ? "" : "no jobs yet: POST /v1/jobs";
  if(selected===null && jobs.length) selected=jobs[jobs.length-1].id;
  for(const j of jobs){
    const tr=document.createElement("tr"); tr.id="job-"+j.id; if(j.id===selected) tr.className="sel";
    tr.onclick=()=>{selected=j.id; show(jobs);};
    cell(tr,j.id,"job-id"); cell(tr,j.name||"","name"); cell(tr,j.state||"?","state-"+(j.state||""));
    cell(tr,j.pages??"","pages"); cell(tr,(j.recent_pages_per_second??0).toFixed(1));
    cell(tr,j.queued??""); cell(tr,j.in_flight??""); cell(tr,j.failures??""); cell(tr,j.hosts_total??"");
    tb.appendChild(tr);
  }
  const j=jobs.find(x=>x.id===selected);
  const ob=document.querySelector("#outcomes tbody"); ob.textContent="";
  const hb=document.querySelector("#hosts tbody"); hb.textContent="";
  document.getElementById("outcomes-job").textContent = j ? "(job "+j.id+")" : "";
  if(j){
    for(const k in (j.outcomes||{})){ if(!j.outcomes[k]) continue; const tr=document.createElement("tr"); cell(tr,k); cell(tr,j.outcomes[k]); ob.appendChild(tr); }
    for(const h of (j.hosts||[])){ const tr=document.createElement("tr"); cell(tr,h.host); cell(tr,h.pages); hb.appendChild(tr); }
  }
}
async function tick(){
  try{
    const r=await fetch("/v1/jobs",{cache:"no-store"}); const d=await r.json();
    for(const j of d.jobs){ if(!j.id) continue;
      if(!series[j.id]){ series[j.id]=(j.rate_history||[]).slice(-N); continue; }  // the daemon's samples
      const h=series[j.id]; h.push(j.state==="running"?(j.recent_pages_per_second||0):0); if(h.length>N) h.shift(); }
    show(d.jobs); draw();
    document.getElementById("updated").textContent="updated "+new Date().toLocaleTimeString();
  }catch(e){ document.getElementById("updated").textContent="cannot reach the daemon: "+e; }
}
tick(); setInterval(tick,1000);
</script></body></html>
)HTML";
  return page;
}

}  // namespace crawld::app
