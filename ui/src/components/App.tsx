import { useEffect, useState } from 'preact/hooks';
import { onNavigate } from '../app/navigation.js';
import { parseRoute } from '../app/routes.js';
import { missingCapability } from '../app/support.js';
import { setHookPageState } from '../app/testHook.js';
import { AdminApp } from '../admin/AdminApp.js';
import { Landing } from './Landing.js';
import { MeetingPage } from './MeetingPage.js';

export function App() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => onNavigate(() => setPath(location.pathname)), []);
  const route = parseRoute(path);

  switch (route.page) {
    case 'landing':
      setHookPageState('landing');
      return <Landing />;
    case 'admin':
      setHookPageState('admin');
      return <AdminApp />;
    case 'meeting': {
      const missing = missingCapability();
      if (missing) {
        setHookPageState('unsupported');
        return (
          <main class="ended">
            <h1>This browser cannot join</h1>
            <p role="alert">{missing}</p>
          </main>
        );
      }
      return <MeetingPage key={route.meetingId} meetingId={route.meetingId} />;
    }
    case 'not-found':
      setHookPageState('not-found');
      return (
        <main class="ended">
          <h1>Page not found</h1>
          <p>
            <a href="/">Go to the start page</a>
          </p>
        </main>
      );
  }
}
