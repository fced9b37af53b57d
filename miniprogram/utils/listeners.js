// Event listeners for utils/socket.js: on(event, fn) → an unsubscribe function, off, and
// _fire, which calls each listener in turn so that one listener's bug does not stop the rest
// (or the socket that fires).
class Listeners {
  constructor() {
    this.listeners = {}; // event -> [fn]
  }

  on(event, fn) {
    (this.listeners[event] = this.listeners[event] || []).push(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    const list = this.listeners[event];
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  _fire(event, data) {
    const list = (this.listeners[event] || []).slice();
    for (const fn of list) {
      try {
        fn(data);
      } catch (e) {
        // a listener's bug must not break the socket
        if (typeof console !== 'undefined') console.error('[socket] listener of ' + event, e);
      }
    }
  }
}

module.exports = Listeners;
