(* Local selection (THEORY.md section 4, "Near w, f coincides pointwise with
   some f_s"; FORMAL_PLAN.md lemma 3 "selection_local"): the pre-activations
   y_k are continuous in w, so for w + h close to w the pieces read off at
   w + h are pieces at w, and f(w + h) = f_s(w + h) for one of the finitely
   many patterns s at w (AD.v, patterns), all compatible with w. *)
From Coq Require Import Reals Lra Lia List.
From ADCorrect Require Import Vec Frechet Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * Continuity rules *)

Lemma continuous_at_const (W : nat) (c : R) (w : vec) : continuous_at W (fun _ => c) w.
Proof. intros eps He; exists 1; split; [lra|]; intros; rewrite Rminus_eq_0, Rabs_R0; exact He. Qed.

Lemma continuous_at_coord (W p : nat) (w : vec) : (p < W)%nat -> continuous_at W (fun v => v p) w.
Proof.
  intros Hp eps He; exists eps; split; [exact He|]; intros h _ Hh.
  unfold vadd; replace (w p + h p - w p) with (h p) by ring.
  eapply Rle_lt_trans; [apply norm_max_coord; exact Hp | exact Hh].
Qed.

(* a common delta for two continuity estimates *)
Lemma continuous_at_both (W : nat) (f g : vec -> R) (w : vec) (ef eg : R) :
  continuous_at W f w -> continuous_at W g w -> 0 < ef -> 0 < eg ->
  exists delta, 0 < delta /\ forall h, supported W h -> norm_max W h < delta ->
    Rabs (f (vadd w h) - f w) < ef /\ Rabs (g (vadd w h) - g w) < eg.
Proof.
  intros Hf Hg Hef Heg.
  destruct (Hf ef Hef) as [d1 [Hd1 K1]]; destruct (Hg eg Heg) as [d2 [Hd2 K2]].
  exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|]; intros h Hs Hh.
  generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros.
  split; [apply K1 | apply K2]; auto; lra.
Qed.

Lemma continuous_at_plus (W : nat) (f g : vec -> R) (w : vec) :
  continuous_at W f w -> continuous_at W g w -> continuous_at W (fun v => f v + g v) w.
Proof.
  intros Hf Hg eps He.
  destruct (continuous_at_both W f g w (eps / 2) (eps / 2) Hf Hg) as [d [Hd K]]; try lra.
  exists d; split; [exact Hd|]; intros h Hs Hh; destruct (K h Hs Hh) as [K1 K2].
  revert K1 K2; split_Rabs; lra.
Qed.

Lemma continuous_at_mult (W : nat) (f g : vec -> R) (w : vec) :
  continuous_at W f w -> continuous_at W g w -> continuous_at W (fun v => f v * g v) w.
Proof.
  intros Hf Hg eps He.
  set (A := Rabs (f w) + 1); set (B := Rabs (g w) + 1).
  assert (HA : 0 < A) by (unfold A; generalize (Rabs_pos (f w)); lra).
  assert (HB : 0 < B) by (unfold B; generalize (Rabs_pos (g w)); lra).
  destruct (continuous_at_both W f g w (eps / (2 * B)) (Rmin 1 (eps / (2 * A))) Hf Hg)
    as [d [Hd K]].
  { apply Rdiv_lt_0_compat; lra. }
  { apply Rmin_glb_lt; [lra | apply Rdiv_lt_0_compat; lra]. }
  exists d; split; [exact Hd|]; intros h Hs Hh; destruct (K h Hs Hh) as [K1 K2].
  generalize (Rmin_l 1 (eps / (2 * A))) (Rmin_r 1 (eps / (2 * A))); intros M1 M2.
  set (df := f (vadd w h) - f w) in *; set (dg := g (vadd w h) - g w) in *.
  replace (f (vadd w h) * g (vadd w h) - f w * g w) with (df * (g w + dg) + f w * dg)
    by (unfold df, dg; ring).
  assert (E1 : Rabs (df * (g w + dg)) <= eps / (2 * B) * B).
  { rewrite Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; [lra|].
    unfold B; eapply Rle_trans; [apply Rabs_triang | lra]. }
  assert (E2 : Rabs (f w * dg) <= A * (eps / (2 * A))).
  { rewrite Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; [unfold A; lra | lra]. }
  assert (E3 : eps / (2 * B) * B = eps / 2) by (field; lra).
  assert (E4 : A * (eps / (2 * A)) = eps / 2) by (field; lra).
  assert (E5 : Rabs (df * (g w + dg)) < eps / 2 \/ Rabs (f w * dg) < eps / 2).
  { destruct (Rlt_dec (Rabs dg) (eps / (2 * A))) as [Hlt|Hge].
    - right; rewrite Rabs_mult.
      apply (Rle_lt_trans _ (A * Rabs dg)).
      + apply Rmult_le_compat_r; [apply Rabs_pos | unfold A; lra].
      + rewrite <- E4; apply Rmult_lt_compat_l; assumption.
    - exfalso; lra. }
  eapply Rle_lt_trans; [apply Rabs_triang|]; destruct E5; lra.
Qed.

Lemma continuous_at_comp (W : nat) (phi : R -> R) (f : vec -> R) (w : vec) :
  continuity_pt phi (f w) -> continuous_at W f w -> continuous_at W (fun v => phi (f v)) w.
Proof.
  intros Hphi Hf eps He.
  destruct (Hphi eps He) as [a [Ha Ka]]; destruct (Hf a Ha) as [d [Hd Kd]].
  exists d; split; [exact Hd|]; intros h Hs Hh.
  destruct (Req_dec (f (vadd w h)) (f w)) as [Heq|Hne].
  - rewrite Heq, Rminus_eq_0, Rabs_R0; exact He.
  - apply (Ka (f (vadd w h))); split; [split; [exact I | auto] | apply Kd; assumption].
Qed.

Lemma continuous_at_ext (W : nat) (f f' : vec -> R) (w : vec) :
  (forall v, f' v = f v) -> continuous_at W f w -> continuous_at W f' w.
Proof.
  intros E Hf eps He; destruct (Hf eps He) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros h Hs Hh; rewrite !E; auto.
Qed.

(** * Networks are continuous in the parameters *)

Lemma eval_continuous (W : nat) (x : nat -> R) (Z : vec -> nat -> R) (w : vec) (e : expr) :
  params_below W e ->
  (forall j, occurs_neuron j e -> continuous_at W (fun v => Z v j) w) ->
  continuous_at W (fun v => eval x v (Z v) e) w.
Proof.
  unfold params_below; induction e as [r|p|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2];
    simpl; intros Hp Hz.
  - apply continuous_at_const.
  - apply continuous_at_coord, Hp; reflexivity.
  - apply continuous_at_const.
  - apply Hz; reflexivity.
  - apply continuous_at_plus; [apply IH1|apply IH2]; auto.
  - apply continuous_at_mult; [apply IH1|apply IH2]; auto.
Qed.

Section Continuity.
Variable net : network.
Hypothesis Hwf : wf net.

Lemma post_continuous (w : vec) (k : nat) :
  (k < n_size net)%nat -> continuous_at (n_params net) (fun v => post net v k) w.
Proof.
  induction k as [k IH] using lt_wf_ind; intros Hk.
  destruct (proj1 Hwf k Hk) as [Hnb Hpb].
  unfold post; apply (continuous_at_comp _ (act_eval (sigma net k)) (fun v => preact net v k)).
  - apply act_continuous.
  - unfold preact; apply eval_continuous; [exact Hpb|].
    intros i Hi; specialize (Hnb i Hi).
    apply (continuous_at_ext _ (fun v => post net v i)); [intros v; now apply zvals_lt|].
    apply IH; lia.
Qed.

Lemma preact_continuous (w : vec) (k : nat) :
  (k < n_size net)%nat -> continuous_at (n_params net) (fun v => preact net v k) w.
Proof.
  intros Hk; destruct (proj1 Hwf k Hk) as [Hnb Hpb].
  unfold preact; apply eval_continuous; [exact Hpb|].
  intros i Hi; specialize (Hnb i Hi).
  apply (continuous_at_ext _ (fun v => post net v i)); [intros v; now apply zvals_lt|].
  apply post_continuous; lia.
Qed.

Lemma net_eval_continuous (w : vec) : continuous_at (n_params net) (net_eval net) w.
Proof.
  destruct Hwf as (_ & Hnb & Hpb).
  unfold net_eval; apply eval_continuous; [exact Hpb|].
  intros i Hi; specialize (Hnb i Hi).
  apply (continuous_at_ext _ (fun v => post net v i)); [intros v; now apply zvec_lt|].
  now apply post_continuous.
Qed.

(* one delta for all pre-activations *)
Lemma preacts_close (w : vec) (eps : R) : 0 < eps ->
  exists delta, 0 < delta /\ forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
    forall k, (k < n_size net)%nat -> Rabs (preact net (vadd w h) k - preact net w k) < eps.
Proof.
  intros He.
  assert (H : forall n, (n <= n_size net)%nat -> exists delta, 0 < delta /\
    forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
      forall k, (k < n)%nat -> Rabs (preact net (vadd w h) k - preact net w k) < eps).
  { induction n as [|m IH]; intros Hm.
    - exists 1; split; [lra | intros; lia].
    - destruct IH as [d1 [Hd1 K1]]; [lia|].
      destruct (preact_continuous w m ltac:(lia) eps He) as [d2 [Hd2 K2]].
      exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|]; intros h Hs Hh k Hk.
      generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros.
      destruct (Nat.eq_dec k m) as [->|]; [apply K2 | apply K1]; auto; [lra | lra | lia]. }
  apply (H (n_size net)); lia.
Qed.

(* FORMAL_PLAN lemma 3: near w, f is pointwise one of the f_s, s a pattern at w *)
Theorem selection_local (w : vec) :
  exists delta, 0 < delta /\ forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
    exists s, In s (patterns net w) /\ net_eval net (vadd w h) = net_eval (select_net net s) (vadd w h).
Proof.
  destruct (pattern_near net w) as [d [Hd Hnear]].
  destruct (preacts_close w d Hd) as [delta [Hdelta K]].
  exists delta; split; [exact Hdelta|]; intros h Hs Hh.
  apply selection_at_nearby, Hnear; intros k Hk; apply K; assumption.
Qed.

End Continuity.
