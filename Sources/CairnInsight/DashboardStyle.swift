extension DashboardHTML {
    /// The dashboard's stylesheet (`GET /ui/style.css`, inlined in reports): system fonts only, readable on a
    /// laptop screen, a print layout without navigation or forms, and the chart colours (`s0`…`s7`, distinct in
    /// colour and in grey).
    public static let stylesheet = """
        :root {
          --ink: #1d2330; --muted: #5b6475; --line: #d6dbe4; --band: #f4f6f9; --accent: #1f5fbf; --bad: #a4262c;
          --s0: #1f5fbf; --s1: #d9730d; --s2: #2e8540; --s3: #a4262c; --s4: #6f42c1; --s5: #0f7b8a; --s6: #8a6d00;
          --s7: #4b5563;
        }
        * { box-sizing: border-box; }
        html { font-size: 15px; }
        body {
          margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
        }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
        code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.9em; }
        header.top {
          display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem; padding: 0.6rem 1.5rem;
          background: var(--ink); color: #fff;
        }
        header.top .brand { color: #fff; font-weight: 700; text-decoration: none; font-size: 1.1rem; }
        header.top .who { margin-left: auto; font-size: 0.9rem; color: #d8dde8; }
        header.top form { margin: 0; }
        header.top button { background: transparent; color: #fff; border: 1px solid #8b94a7; border-radius: 4px;
          padding: 0.2rem 0.7rem; cursor: pointer; font: inherit; font-size: 0.9rem; }
        nav.views { border-bottom: 1px solid var(--line); background: var(--band); padding: 0 1.5rem; }
        nav.views ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0 0.25rem; }
        nav.views a { display: block; padding: 0.55rem 0.7rem; text-decoration: none; color: var(--ink);
          border-bottom: 3px solid transparent; }
        nav.views a[aria-current="page"] { border-bottom-color: var(--accent); font-weight: 600; }
        nav.views a:hover { background: #e8ecf2; }
        nav.views li.admin { margin-left: auto; }
        main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        h1 { font-size: 1.6rem; margin: 0.6rem 0 0.2rem; }
        h2 { font-size: 1.2rem; margin: 0 0 0.3rem; }
        h3 { font-size: 1rem; margin: 1rem 0 0.3rem; }
        p.question { font-size: 1.05rem; color: var(--muted); margin: 0 0 1rem; }
        p.note { color: var(--muted); margin: 0 0 0.6rem; max-width: 60rem; }
        p.window, p.meta { color: var(--muted); font-size: 0.9rem; }
        form.filter { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0.5rem 1rem; padding: 0.7rem 1rem;
          background: var(--band); border: 1px solid var(--line); border-radius: 6px; margin: 0 0 0.5rem; }
        form.filter label { display: flex; flex-direction: column; font-size: 0.85rem; color: var(--muted); }
        input[type="text"], input[type="password"] { font: inherit; padding: 0.3rem 0.45rem; border: 1px solid #9aa3b3;
          border-radius: 4px; min-width: 14rem; color: var(--ink); }
        button.primary, form.filter button { font: inherit; padding: 0.35rem 1rem; border-radius: 4px; cursor: pointer;
          background: var(--accent); color: #fff; border: 1px solid var(--accent); }
        section.stats { margin: 1.5rem 0 2rem; padding-top: 0.5rem; border-top: 1px solid var(--line); }
        .table-wrap { overflow-x: auto; max-width: 100%; }
        table { border-collapse: collapse; margin: 0.4rem 0 0.8rem; font-size: 0.92rem; }
        caption { text-align: left; color: var(--muted); padding: 0.2rem 0; }
        th, td { padding: 0.3rem 0.7rem; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
        thead th { background: var(--band); border-bottom: 2px solid var(--line); font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tbody tr:hover { background: #fafbfd; }
        td.empty { color: var(--muted); font-style: italic; }
        .wrap { overflow-wrap: break-word; word-break: normal; }
        tbody th[scope="row"] { min-width: 11rem; font-weight: 600; }
        td.mono:not(.wrap) { white-space: nowrap; }
        td.mono.wrap { overflow-wrap: anywhere; min-width: 12rem; }
        svg.chart { display: block; width: 100%; max-width: 760px; height: auto; margin: 0.5rem 0 0.5rem; }
        svg.chart text { font-size: 11px; fill: var(--muted); font-family: inherit; }
        svg.chart text.legend { fill: var(--ink); }
        svg.chart .grid { stroke: #e6e9ef; stroke-width: 1; }
        svg.chart .axis { stroke: #8b94a7; stroke-width: 1; }
        svg.chart .line { fill: none; stroke-width: 2; }
        svg.chart .dot { stroke: #fff; stroke-width: 1; }
        .s0 { stroke: var(--s0); fill: var(--s0); } .s1 { stroke: var(--s1); fill: var(--s1); }
        .s2 { stroke: var(--s2); fill: var(--s2); } .s3 { stroke: var(--s3); fill: var(--s3); }
        .s4 { stroke: var(--s4); fill: var(--s4); } .s5 { stroke: var(--s5); fill: var(--s5); }
        .s6 { stroke: var(--s6); fill: var(--s6); } .s7 { stroke: var(--s7); fill: var(--s7); }
        svg.chart .line.s0, svg.chart .line.s1, svg.chart .line.s2, svg.chart .line.s3, svg.chart .line.s4,
        svg.chart .line.s5, svg.chart .line.s6, svg.chart .line.s7 { fill: none; }
        svg.chart .line.s1 { stroke-dasharray: 6 3; } svg.chart .line.s2 { stroke-dasharray: 2 3; }
        svg.chart .line.s3 { stroke-dasharray: 8 3 2 3; }
        pre.json { background: var(--band); border: 1px solid var(--line); border-radius: 6px; padding: 0.7rem 0.9rem;
          overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 40rem; }
        pre.command { background: var(--ink); color: #f2f4f8; border-radius: 6px; padding: 0.6rem 0.9rem;
          overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0 1rem; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        details { margin: 0.3rem 0; }
        summary { cursor: pointer; }
        .box { border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem 1rem; margin: 1rem 0;
          background: #fff; }
        .error { border-color: var(--bad); }
        .error h1 { color: var(--bad); }
        .signin { max-width: 30rem; margin: 3rem auto; }
        .signin label { display: block; margin: 0.8rem 0 0.3rem; font-weight: 600; }
        .signin input[type="password"] { width: 100%; }
        .signin p.message { color: var(--bad); font-weight: 600; }
        footer { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: var(--muted); font-size: 0.85rem;
          border-top: 1px solid var(--line); }
        .report-view { margin-top: 2.5rem; }
        @media (max-width: 700px) {
          main { padding: 0.8rem; }
          input[type="text"] { min-width: 10rem; }
          nav.views li.admin { margin-left: 0; }
        }
        @media print {
          html { font-size: 10pt; }
          header.top, nav.views, form.filter, form, .no-print { display: none !important; }
          main, footer { max-width: none; padding: 0; }
          a { color: inherit; text-decoration: none; }
          .table-wrap { overflow: visible; }
          table { font-size: 9pt; }
          thead { display: table-header-group; }
          tr, svg.chart, pre.command, dl.facts { break-inside: avoid; }
          section.stats { break-inside: auto; border-top: 1px solid #999; }
          h1, h2, h3 { break-after: avoid; }
          pre.json { max-height: none; border-color: #999; }
          pre.command { background: #fff; color: #000; border: 1px solid #999; }
          svg.chart { max-width: 17cm; }
          .report-view { break-before: page; margin-top: 0; }
          .report-view:first-of-type { break-before: auto; }
        }
        """
}
