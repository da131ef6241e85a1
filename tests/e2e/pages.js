// Page objects: what a person sees and does, in one place, so tests read as steps.

export class IdpLoginPage {
  constructor(page) {
    this.page = page;
  }

  async waitFor() {
    await this.page.locator('input[name=login]').waitFor();
  }

  async signIn(username, password) {
    await this.waitFor();
    await this.page.fill('input[name=login]', username);
    await this.page.fill('input[name=password]', password);
    await this.page.click('button[type=submit]:not([name=cancel])');
  }

  async cancel() {
    await this.waitFor();
    await this.page.click('button[name=cancel]');
  }
}

export class Gatehouse {
  constructor(page, appUrl) {
    this.page = page;
    this.appUrl = appUrl;
    this.idp = new IdpLoginPage(page);
  }

  testId(id) {
    return this.page.getByTestId(id);
  }

  async open(path = '/') {
    await this.page.goto(`${this.appUrl}${path}`);
  }

  async signIn(user, path = '/') {
    await this.open(path);
    await this.testId('sign-in').click();
    await this.idp.signIn(user.username, user.password);
    await this.testId('user-menu').waitFor();
  }

  async userName() {
    return (await this.testId('user-menu').innerText()).trim();
  }

  async openProfile() {
    await this.testId('user-menu').click();
    await this.testId('profile-panel').waitFor();
  }

  async roles() {
    return this.testId('profile-role').allInnerTexts();
  }

  async storage() {
    return this.page.evaluate(() => ({
      session: Object.fromEntries(Object.entries(sessionStorage)),
      local: Object.fromEntries(Object.entries(localStorage)),
    }));
  }

  async storedSession() {
    const { session } = await this.storage();
    return session['gatehouse.session'] ? JSON.parse(session['gatehouse.session']) : null;
  }

  /** Overwrites fields of the stored session record (a token the provider or the API no
   *  longer accepts, say), then reloads so the app restores the changed record. */
  async patchStoredSession(fields) {
    await this.page.evaluate((patch) => {
      const s = JSON.parse(sessionStorage.getItem('gatehouse.session'));
      sessionStorage.setItem('gatehouse.session', JSON.stringify({ ...s, ...patch }));
    }, fields);
    await this.page.reload();
  }
}
