// blogql's stand-in for the npm package react-style-singleton (build.sh aliases it
// here). react-remove-scroll, which GraphiQL's dialogs use to stop the page behind them
// scrolling, adds its CSS through that package as a <style> element, which a
// Content-Security-Policy without style-src 'unsafe-inline' blocks. Same API, but the
// CSS goes into a constructed stylesheet (document.adoptedStyleSheets), which CSP
// allows. Where a browser has no constructed stylesheets the CSS is left out: the
// GraphiQL page does not scroll, so nothing is lost.
import { useEffect } from 'react';

const supported = () =>
  typeof document !== 'undefined' && 'adoptedStyleSheets' in document && typeof CSSStyleSheet === 'function';

// One stylesheet shared by every user: added with the first, removed with the last.
export function stylesheetSingleton() {
  let users = 0;
  let sheet = null;
  return {
    add(css) {
      users += 1;
      if (users === 1 && supported()) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      }
    },
    remove() {
      users -= 1;
      if (users === 0 && sheet) {
        const removed = sheet;
        sheet = null;
        document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== removed);
      }
    },
  };
}

export function styleHookSingleton() {
  const sheet = stylesheetSingleton();
  return (styles, isDynamic) => {
    useEffect(() => {
      sheet.add(styles);
      return () => sheet.remove();
    }, [styles && isDynamic]);
  };
}

export function styleSingleton() {
  const useStyle = styleHookSingleton();
  return function Sheet({ styles, dynamic }) {
    useStyle(styles, dynamic);
    return null;
  };
}
