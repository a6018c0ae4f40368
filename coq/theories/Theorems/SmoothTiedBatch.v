(* T6 for smooth pre-activations (THEORY.md section 8.1, T6, with the tau_k
   of section 3 any C1 functions; issue 18, items 1 and 3), as T7Batch.v
   derives T6 from T7.  A batch of a smooth-tau bias network: base neurons
   k < N with activations bsig k and, for example i < B, C1 pre-activations
   btau i k of (w, z_base) (the example's input is inside btau i k); the
   batched smooth-tau network [st_batch_of] has the neuron c = i N + k with
   activation bsig k and tau_c(w, z) = btau i k (w, z_(iN), ..., z_(iN+N-1))
   ([batch_sel]), and any C1 loss of (w, z) as output.  Base bias: each
   kinked base neuron k has a parameter b_k entering btau i k with
   coefficient 1 and no other btau i j.  Then the batch is a tied-bias
   smooth-tau network with classes c mod N (copies of a neuron never read
   each other: a copy reads only its own example's block), so T7 for smooth
   pre-activations (SmoothTied.v) gives AD = gradient under theta-uniform
   choices wherever the loss is differentiable. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD C1Output Batch T6Correct
  SmoothTau SmoothTied.
Import ListNotations.
Open Scope R_scope.

(* (w, z_(iN), ..., z_(iN+N-1)) as a packed base vector *)
Definition batch_sel (W N i : nat) (u : vec) : vec :=
  pack W u (fun j => if lt_dec j N then u (W + (i * N + j))%nat else 0).

Section BatchOf.
Variables (sn : st_network) (B N : nat).
Variables (btau : nat -> nat -> c1_output (st_W sn) N) (bsig : nat -> activation).
Local Notation W := (st_W sn).

(* sn is the batch of the base neurons (btau i k, bsig k) over B examples *)
Definition st_batch_of : Prop :=
  st_N sn = (B * N)%nat /\
  forall i k, (i < B)%nat -> (k < N)%nat ->
    st_sigma sn (i * N + k) = bsig k /\
    forall u, c1_g (st_tau sn (i * N + k)) u = c1_g (btau i k) (batch_sel W N i u).

(* every kinked base neuron has its own bias, in every example *)
Definition st_batch_bias : Prop :=
  forall k, (k < N)%nat -> kinks (bsig k) <> [] -> exists p, (p < W)%nat /\
    forall i, (i < B)%nat ->
      (forall u t, c1_g (btau i k) (upd u p t) = c1_g (btau i k) u + (t - u p)) /\
      (forall j, (j < N)%nat -> j <> k -> forall u t, c1_g (btau i j) (upd u p t) = c1_g (btau i j) u).

Lemma batch_sel_upd_param i u p t : (p < W)%nat -> batch_sel W N i (upd u p t) = upd (batch_sel W N i u) p t.
Proof.
  intros Hp; apply functional_extensionality; intros q; unfold batch_sel, pack, upd.
  destruct (lt_dec q W), (Nat.eq_dec q p); subst; try lia; try reflexivity.
  destruct (lt_dec (q - W) N); [|reflexivity].
  destruct (Nat.eq_dec (W + (i * N + (q - W))) p); [lia | reflexivity].
Qed.

Lemma batch_sel_upd_other i u j t : (j < i * N \/ i * N + N <= j)%nat ->
  batch_sel W N i (upd u (W + j) t) = batch_sel W N i u.
Proof.
  intros Hj; apply functional_extensionality; intros q; unfold batch_sel, pack, upd.
  destruct (lt_dec q W); [destruct (Nat.eq_dec q (W + j)); [lia | reflexivity]|].
  destruct (lt_dec (q - W) N); [|reflexivity].
  destruct (Nat.eq_dec (W + (i * N + (q - W))) (W + j)); [lia | reflexivity].
Qed.

Hypothesis Hbatch : st_batch_of.
Variable bias : nat -> nat.
Hypothesis Hbias : forall k, (k < N)%nat -> kinks (bsig k) <> [] -> (bias k < W)%nat /\
    forall i, (i < B)%nat ->
      (forall u t, c1_g (btau i k) (upd u (bias k) t) = c1_g (btau i k) u + (t - u (bias k))) /\
      (forall j, (j < N)%nat -> j <> k -> forall u t, c1_g (btau i j) (upd u (bias k) t) = c1_g (btau i j) u).

(* the batch is a tied-bias smooth-tau network, classes c mod N *)
Theorem st_batch_tied : st_tied_bias sn (fun c => c mod N) bias.
Proof.
  destruct Hbatch as [HN Hc]; split.
  - intros c j Hcn Hjc Hcls u t; rewrite HN in Hcn.
    destruct (copy_decompose N B c Hcn) as [i [k [Hi [Hk ->]]]].
    rewrite copy_mod in Hcls by exact Hk.
    destruct (Hc i k Hi Hk) as [_ Ht]; rewrite !Ht.
    rewrite batch_sel_upd_other; [reflexivity|].
    destruct (lt_dec j (i * N)) as [Hlt|Hge]; [left; exact Hlt|exfalso].
    assert (Hj : j = (i * N + (j - i * N))%nat) by lia.
    rewrite Hj, copy_mod in Hcls by lia; lia.
  - intros c' Hc' Hk'; rewrite HN in Hc'.
    destruct (copy_decompose N B c' Hc') as [i' [k' [Hi' [Hk'' ->]]]].
    rewrite copy_mod by exact Hk''.
    rewrite (proj1 (Hc i' k' Hi' Hk'')) in Hk'.
    destruct (Hbias k' Hk'' Hk') as [Hp Hb]; split; [exact Hp|].
    intros c Hcn; rewrite HN in Hcn.
    destruct (copy_decompose N B c Hcn) as [i [k [Hi [Hk ->]]]].
    rewrite copy_mod by exact Hk.
    destruct (Hc i k Hi Hk) as [_ Ht]; destruct (Hb i Hi) as [Hin Hout]; split.
    + intros -> u t; rewrite !Ht, batch_sel_upd_param, Hin by exact Hp.
      unfold batch_sel; rewrite pack_lt by exact Hp; reflexivity.
    + intros Hne u t; rewrite !Ht, batch_sel_upd_param by exact Hp.
      apply Hout; assumption.
Qed.

End BatchOf.

(* T6 over smooth pre-activations: theta-uniform choices per base neuron *)
Theorem st_T6_batch_ad_correct (sn : st_network) (B N : nat)
  (btau : nat -> nat -> c1_output (st_W sn) N) (bsig : nat -> activation)
  (Dk : nat -> R -> R) (w g : vec) :
  st_batch_of sn B N btau bsig -> st_batch_bias sn B N btau bsig ->
  (forall k, (k < N)%nat -> theta_uniform (bsig k) (Dk k)) ->
  differentiable_at (st_W sn) (st_eval sn) w g ->
  forall p, (p < st_W sn)%nat -> st_ad sn (fun c => Dk (c mod N) (st_preact sn w c)) w p = g p.
Proof.
  intros Hbatch Hb Hu.
  destruct (finite_choice (fun k th => forall c, is_kink (bsig k) c ->
              Dk k c = slope_left (bsig k) c + th * (slope_right (bsig k) c - slope_left (bsig k) c))
            N 0 Hu) as [theta Htheta].
  destruct (finite_choice (fun k p => kinks (bsig k) <> [] -> (p < st_W sn)%nat /\
              forall i, (i < B)%nat ->
                (forall u t, c1_g (btau i k) (upd u p t) = c1_g (btau i k) u + (t - u p)) /\
                (forall j, (j < N)%nat -> j <> k -> forall u t, c1_g (btau i j) (upd u p t) = c1_g (btau i j) u))
            N 0%nat) as [bias Hbias].
  { intros k Hk; destruct (kinks (bsig k)) as [|c0 l] eqn:E.
    - exists 0%nat; intros H; exfalso; apply H; reflexivity.
    - destruct (Hb k Hk ltac:(rewrite E; discriminate)) as [p Hp]; exists p; intros _; exact Hp. }
  apply (st_T7_tied_ad_correct sn (fun c => c mod N) bias
           (st_batch_tied sn B N btau bsig Hbatch bias (fun k Hk Hn => Hbias k Hk Hn)) theta
           (fun c y => Dk (c mod N) y)).
  intros c y Hc Hk; destruct Hbatch as [HN Hcp]; rewrite HN in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hk' ->]]]].
  rewrite (proj1 (Hcp i k Hi Hk')) in Hk |- *; rewrite copy_mod by exact Hk'.
  apply Htheta; [exact Hk' | exact Hk].
Qed.
